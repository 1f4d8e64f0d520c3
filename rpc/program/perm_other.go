//go:build !unix

package program

import (
	"fmt"
	"os"
)

// checkPerm: Windows has no mode bits to check; ACLs are the
// administrator's business.
func checkPerm(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	return nil
}

// checkTree: see checkPerm.
func checkTree(path string) error { return nil }
