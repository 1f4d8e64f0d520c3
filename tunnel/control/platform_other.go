//go:build !(linux || darwin)

package control

import (
	"io/fs"
	"net"
	"os"
)

func lockFile(*os.File) (bool, error) { return false, ErrUnsupported }

func checkOwner(fs.FileInfo) error { return ErrUnsupported }

func checkPeer(*net.UnixConn) error { return ErrUnsupported }
