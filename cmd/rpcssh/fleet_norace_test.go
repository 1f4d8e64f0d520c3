//go:build !race

package main

// raceBuild is true under -race, which makes SSH handshakes several
// times slower: the fleet tests use fewer hosts and longer bounds.
const raceBuild = false
