// The Models module. See the files beside this one.
