package program

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cloexecInherited marks descriptors 3 and up close-on-exec with one
// close_range call (Linux 5.11); an older kernel gets the loop.
func cloexecInherited() error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	return cloexecLoop("/proc/self/fd")
}

// setNotDumpable closes /proc/self/{environ,mem} to other processes of the
// same user.
func setNotDumpable() error {
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("program: prctl PR_SET_DUMPABLE: %w", err)
	}
	return nil
}

// wipeEnvBlock overwrites "name=value" in the environment block the kernel
// set up at exec (what /proc/self/environ reads, from env_start to env_end
// in /proc/self/stat) with NUL bytes, through /proc/self/mem.
func wipeEnvBlock(name, value string) error {
	block, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return fmt.Errorf("program: wipe %s: %w", name, err)
	}
	entry := []byte(name + "=" + value + "\x00")
	off := -1
	for i := 0; i < len(block); {
		if bytes.HasPrefix(block[i:], entry) {
			off = i
			break
		}
		j := bytes.IndexByte(block[i:], 0)
		if j < 0 {
			break
		}
		i += j + 1
	}
	if off < 0 {
		return nil // set after exec: only in Go's copy, which Unsetenv clears
	}
	start, err := envStart()
	if err != nil {
		return fmt.Errorf("program: wipe %s: %w", name, err)
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("program: wipe %s: %w", name, err)
	}
	defer mem.Close()
	if _, err := mem.WriteAt(make([]byte, len(entry)-1), int64(start)+int64(off)); err != nil {
		return fmt.Errorf("program: wipe %s: %w", name, err)
	}
	return nil
}

// envStart reads env_start, field 50 of /proc/self/stat.
func envStart() (uint64, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// Field 2, the command name, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat: no command name")
	}
	fields := strings.Fields(string(stat[i+1:])) // fields 3 and up
	const envStartField = 50
	if len(fields) < envStartField-2 {
		return 0, fmt.Errorf("/proc/self/stat: %d fields, want %d or more", len(fields)+2, envStartField)
	}
	return strconv.ParseUint(fields[envStartField-3], 10, 64)
}
