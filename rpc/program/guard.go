package program

import "os"

// GuardProcess readies the current process (serve) to start method
// programs, which run as the same user and must not get at serve's
// secrets:
//
//   - every inherited descriptor above 2 is marked close-on-exec, so a
//     file the parent shell left open (a secret, a socket) never reaches a
//     program (Linux: close_range(3, ~0, CLOSE_RANGE_CLOEXEC); elsewhere a
//     loop over the open descriptors);
//   - each variable in secretEnv is removed from the environment, so no
//     program inherits it, even one whose method file lists it in env; on
//     Linux its bytes are also overwritten in the process's original
//     environment block, which /proc/PID/environ shows and os.Unsetenv
//     leaves alone;
//   - on Linux the process is made non-dumpable (prctl PR_SET_DUMPABLE 0):
//     /proc/PID/environ and /proc/PID/mem of serve are then closed to its
//     own user, and only root (CAP_SYS_PTRACE) can read them; no core
//     dump is written either.
//
// Call it once at start, after reading the secrets and before starting any
// program. The first error is returned after every step has been tried.
func GuardProcess(secretEnv ...string) error {
	err := cloexecInherited()
	for _, name := range secretEnv {
		v, ok := os.LookupEnv(name)
		if !ok {
			continue
		}
		if werr := wipeEnvBlock(name, v); werr != nil && err == nil {
			err = werr
		}
		if uerr := os.Unsetenv(name); uerr != nil && err == nil {
			err = uerr
		}
	}
	if derr := setNotDumpable(); derr != nil && err == nil {
		err = derr
	}
	return err
}
