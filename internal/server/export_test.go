package server

// Doubling builds the fragment bomb of the security review for the external tests.
var Doubling = doubling
