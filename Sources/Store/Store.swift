// The Store module. See the files beside this one.
