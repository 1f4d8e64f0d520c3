//go:build unix && !linux

package program

// cloexecInherited marks descriptors 3 and up close-on-exec, one by one.
func cloexecInherited() error { return cloexecLoop("/dev/fd") }

// setNotDumpable: other systems keep another process's environment and
// memory from same-user processes their own way (macOS needs the
// task_for_pid entitlement).
func setNotDumpable() error { return nil }

// wipeEnvBlock: there is no /proc/PID/environ to wipe.
func wipeEnvBlock(name, value string) error { return nil }
