package guest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// FsyncProbe is one run of the fdatasync probe: Count writes of Bytes
// bytes each, appended to a new file in Dir and each followed by
// fdatasync, stopping early once MaxTime has passed, so a slow disk gives
// a bounded run.
type FsyncProbe struct {
	Dir     string
	Count   int
	MaxTime time.Duration
	Bytes   int
}

// probeFile is the probe's file in Dir, removed when it ends.
const probeFile = ".lab-fsync-probe"

// The hidden command that runs the probe on a node (cmd/lab/guest.go:
// lab guest fsync-probe) and its flags; Args builds its command line.
const (
	GroupCommand = "guest"
	ProbeCommand = "fsync-probe"
	FlagDir      = "dir"
	FlagCount    = "count"
	FlagMaxTime  = "max-time"
	FlagBytes    = "bytes"
)

// Validate refuses a probe that cannot run.
func (p FsyncProbe) Validate() error {
	switch {
	case p.Dir == "" || !filepath.IsAbs(p.Dir):
		return fmt.Errorf("fsync probe: --%s %q must be an absolute directory", FlagDir, p.Dir)
	case p.Count < 1:
		return fmt.Errorf("fsync probe: --%s %d: the probe needs at least one write", FlagCount, p.Count)
	case p.MaxTime <= 0:
		return fmt.Errorf("fsync probe: --%s %s must be positive", FlagMaxTime, p.MaxTime)
	case p.Bytes < 1:
		return fmt.Errorf("fsync probe: --%s %d: each write needs at least one byte", FlagBytes, p.Bytes)
	}
	return nil
}

// Run writes and syncs, calling each with every fdatasync's latency as it
// is measured (only the fdatasync is timed, as etcd times its WAL sync).
// The file is removed however the run ends. A cancelled ctx stops it
// between writes.
func (p FsyncProbe) Run(ctx context.Context, each func(time.Duration) error) (err error) {
	if err := p.Validate(); err != nil {
		return err
	}
	path := filepath.Join(p.Dir, probeFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("fsync probe: creating %s: %w", path, err)
	}
	defer func() {
		err = errors.Join(err, f.Close(), os.Remove(path))
	}()
	buf := bytes.Repeat([]byte{'x'}, p.Bytes)
	end := time.Now().Add(p.MaxTime)
	for range p.Count {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("fsync probe: writing %s: %w", path, err)
		}
		start := time.Now()
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return fmt.Errorf("fsync probe: fdatasync of %s: %w", path, err)
		}
		if err := each(time.Since(start)); err != nil {
			return err
		}
		if time.Now().After(end) {
			break
		}
	}
	return nil
}

// Args is the probe's command line after the program's name: the hidden
// command and its flags.
func (p FsyncProbe) Args() []string {
	return []string{GroupCommand, ProbeCommand,
		"--" + FlagDir, p.Dir,
		"--" + FlagCount, strconv.Itoa(p.Count),
		"--" + FlagMaxTime, p.MaxTime.String(),
		"--" + FlagBytes, strconv.Itoa(p.Bytes),
	}
}

// Command is the shell command that runs the probe with LabBinary on a
// node (as root: the data directory is root's). It prints one fdatasync
// latency in whole microseconds per line (FormatLatency).
func (p FsyncProbe) Command() string {
	cmd := LabBinary
	for _, a := range p.Args() {
		cmd += " " + shellQuote(a)
	}
	return cmd
}

// FormatLatency is how the probe prints one latency: whole microseconds on
// a line of their own, what ParseProbe reads.
func FormatLatency(d time.Duration) string {
	return strconv.FormatInt(d.Microseconds(), 10) + "\n"
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + string(bytes.ReplaceAll([]byte(s), []byte("'"), []byte(`'\''`))) + "'"
}

// AsRoot is the command line that runs a shell script as root on a node:
// the lab user has passwordless sudo.
func AsRoot(script string) string { return "sudo sh -c " + shellQuote(script) }
