// The Media module. See the files beside this one.
