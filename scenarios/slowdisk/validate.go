package slowdisk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/kthw-lab/lab/lab/guest"
)

// Check validates what the user chose, before anything runs: a run that
// would fail on its third arm because of a flag must fail at once. Every
// problem is named with its fix; the lab is not touched.
func Check(o Options) error {
	var errs []error
	if o.Duration < 0 {
		errs = append(errs, fmt.Errorf("--duration %s: want a positive duration such as 90s", o.Duration))
	}
	if o.CheckPerfDuration < 0 {
		errs = append(errs, fmt.Errorf("--check-perf %s: want 0 (skip it) or a positive duration such as 20s", o.CheckPerfDuration))
	}
	if o.FsyncLatency < 0 {
		errs = append(errs, fmt.Errorf("--fsync-latency %s: want a positive duration such as 1s (the story's)", o.FsyncLatency))
	} else if o.FsyncLatency > 0 {
		if _, err := guest.ForName(guest.HDD, o.FsyncLatency); err != nil {
			errs = append(errs, err)
		}
	}
	if err := writableDir(o.OutDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// writableDir checks that dir is, or can be made, a directory this user
// writes into, without creating it: it or its nearest existing parent
// must be a writable directory.
func writableDir(dir string) error {
	if dir == "" {
		return nil
	}
	path, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("--out %s: %w", dir, err)
	}
	for {
		fi, err := os.Stat(path)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("--out %s: %s is a file, not a directory: choose another --out", dir, path)
		case err == nil:
			if err := syscall.Access(path, 2 /* W_OK */); err != nil {
				return fmt.Errorf("--out %s: cannot write into %s (%w): choose a directory you can write to", dir, path, err)
			}
			return nil
		case !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return fmt.Errorf("--out %s: no existing parent directory", dir)
		}
		path = parent
	}
}
