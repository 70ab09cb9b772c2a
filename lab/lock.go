package lab

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockFile is the lock that keeps two creates or destroys of one lab apart.
const lockFile = "lock"

// ErrLocked means another process holds the lab's lock.
var ErrLocked = errors.New("lab is busy")

// Lock takes the lab's lock: an flock on <store>/lock, so a process that
// dies releases it without cleanup. The file holds the holder's pid and
// command line, which the refusal of a second locker names. The store must
// exist (Init). unlock releases it.
func (s Store) Lock() (unlock func(), err error) {
	path := filepath.Join(s.Dir, lockFile)
	// O_NOFOLLOW: a planted symbolic link must not make lab open (and
	// truncate) another file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock of lab %q: %w", s.name(), err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "another process"
			}
			return nil, fmt.Errorf("lab %q is in use by %s: wait for it to finish, or stop it (%s): %w", s.name(), who, path, ErrLocked)
		}
		return nil, fmt.Errorf("locking lab %q: %w", s.name(), err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(holderText()+"\n"), 0)
	}
	return func() {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// holderText describes this process for a second locker: "pid 123 (lab create)".
func holderText() string {
	cmd := strings.Join(os.Args, " ")
	if b, err := os.ReadFile("/proc/self/cmdline"); err == nil {
		cmd = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	}
	if len(cmd) > 200 {
		cmd = cmd[:200] + "…"
	}
	return "pid " + strconv.Itoa(os.Getpid()) + " (" + cmd + ")"
}
