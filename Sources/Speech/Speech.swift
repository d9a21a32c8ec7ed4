// The Speech module. See the files beside this one.
