//go:build !unix

package program

// cloexecInherited: Windows handles are not inherited unless marked so,
// and os/exec passes only the ones it is given.
func cloexecInherited() error { return nil }

func setNotDumpable() error { return nil }

func wipeEnvBlock(name, value string) error { return nil }
