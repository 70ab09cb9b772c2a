package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// onRotationalDisk reports whether the file system holding path lives on a
// spinning disk, from /sys/dev/block/MAJ:MIN/queue/rotational (a partition
// asks its parent disk). A pool on a real HDD needs no emulation.
func onRotationalDisk(path string) (bool, error) {
	return rotationalIn(path, "/sys/dev/block")
}

// rotationalIn is onRotationalDisk with sysfs's block directory given, for
// tests.
func rotationalIn(path, sysBlock string) (bool, error) {
	var st syscall.Stat_t
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		err := syscall.Stat(p, &st)
		if err == nil {
			break
		}
		if p == "/" {
			return false, fmt.Errorf("finding the disk of %s: %w", path, err)
		}
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	dir, err := filepath.EvalSymlinks(filepath.Join(sysBlock, dev))
	if err != nil {
		return false, fmt.Errorf("finding the disk of %s (device %s): %w", path, dev, err)
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		b, err := os.ReadFile(filepath.Join(d, "queue", "rotational"))
		if err == nil {
			return strings.TrimSpace(string(b)) == "1", nil
		}
	}
	return false, fmt.Errorf("finding the disk of %s: %s has no queue/rotational", path, dir)
}
