package program

import (
	"fmt"
	"io/fs"
)

// CheckPath refuses a file or directory that a user other than this one
// (or root) could change: on Unix, path or any directory above it that is
// group- or world-writable (a sticky directory such as /tmp excepted) or
// owned by another user, OpenSSH's StrictModes rule. Load applies it to the
// methods file; serve applies it to the state directory. A path that does
// not exist yet is judged by the directories above it. The error names the
// path and the chmod that fixes it; on Unix it is a *PermError.
func CheckPath(path string) error {
	if err := checkTree(path); err != nil {
		return fmt.Errorf("program: %w", err)
	}
	return nil
}

// PermError is a file or directory other users could change.
type PermError struct {
	Path string      // the offending file or directory
	Mode fs.FileMode // its mode
	UID  uint32      // its owner
	Msg  string      // what is wrong, with how to fix it
}

func (e *PermError) Error() string { return e.Msg }
