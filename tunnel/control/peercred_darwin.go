package control

import "golang.org/x/sys/unix"

// peerUID is the uid of the process on the other end (LOCAL_PEERCRED, as
// getpeereid(3) does).
func peerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return -1, err
	}
	return int(cred.Uid), nil
}
