//go:build !unix

package program

import (
	"fmt"
	"os"
)

// openJobFile opens a file of a job's directory, refusing a symbolic link
// or anything else but a regular file (checked before and after the open).
func openJobFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s): refused", path, fi.Mode().Type())
	}
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file: refused", path)
	}
	return f, nil
}
