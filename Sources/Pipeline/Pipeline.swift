// The Pipeline module. See the files beside this one.
