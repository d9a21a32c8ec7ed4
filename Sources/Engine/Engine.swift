// The Engine module. See the files beside this one.
