//go:build unix

package program

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkPerm refuses a methods file other users could change.
func checkPerm(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	return checkTree(path)
}

// checkTree applies OpenSSH's StrictModes rule to path and every directory
// above it, symbolic links resolved: each must be owned by this user or
// root and writable by neither group nor others. A directory with the
// sticky bit (/tmp) may be writable by others: they can add entries but
// not replace one they do not own, and the entry below it is checked too.
// A path that does not exist yet is judged by the directories that do.
func checkTree(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	// Find the longest part of the path that exists.
	missing := ""
	for {
		real, err := filepath.EvalSymlinks(abs)
		if err == nil {
			abs = filepath.Join(real, missing)
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(abs) == abs {
			return err
		}
		missing = filepath.Join(filepath.Base(abs), missing)
		abs = filepath.Dir(abs)
	}
	uid := uint32(os.Getuid())
	for p := abs; ; p = filepath.Dir(p) {
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// The part not created yet.
		case err != nil:
			return err
		default:
			if err := checkOne(p, fi, uid); err != nil {
				return err
			}
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

func checkOne(p string, fi fs.FileInfo, uid uint32) error {
	perm := fi.Mode().Perm()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != uid && st.Uid != 0 {
		return &PermError{Path: p, Mode: perm, UID: st.Uid,
			Msg: fmt.Sprintf("%s is owned by uid %d, not by this user (uid %d) nor root: that user could change it; move it, or chown it to this user", p, st.Uid, uid)}
	}
	if fi.IsDir() && fi.Mode()&fs.ModeSticky != 0 {
		return nil
	}
	var who, fix string
	switch {
	case perm&0o022 == 0o022:
		who, fix = "group- and world-writable", "go-w"
	case perm&0o020 != 0:
		who, fix = "group-writable", "g-w"
	case perm&0o002 != 0:
		who, fix = "world-writable", "o-w"
	default:
		return nil
	}
	return &PermError{Path: p, Mode: perm,
		Msg: fmt.Sprintf("%s is %s (mode %04o): other users could change it; fix with: chmod %s %s", p, who, perm, fix, p)}
}
