package lab

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRotationalOfThisMachine(t *testing.T) {
	// Whatever the disk is, the question must have an answer for a path
	// that exists and for one that does not yet (a pool directory to be).
	for _, p := range []string{t.TempDir(), "/var/lib/libvirt/images/lab-not-yet-made"} {
		if _, err := onRotationalDisk(p); err != nil {
			t.Errorf("onRotationalDisk(%s): %v", p, err)
		}
	}
}

func TestRotationalReadsTheParentOfAPartition(t *testing.T) {
	sys := t.TempDir()
	var st syscall.Stat_t
	dir := t.TempDir()
	if err := syscall.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	disk := filepath.Join(sys, "devices", "sda")
	part := filepath.Join(disk, "sda1")
	if err := os.MkdirAll(filepath.Join(disk, "queue"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(part, 0o755)
	os.WriteFile(filepath.Join(disk, "queue", "rotational"), []byte("1\n"), 0o644)
	if err := os.Symlink(part, filepath.Join(sys, dev)); err != nil {
		t.Fatal(err)
	}
	rot, err := rotationalIn(dir, sys)
	if err != nil || !rot {
		t.Fatalf("rotational = %v, %v; want true from the parent disk", rot, err)
	}
}
