package cache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestAbortNeverDeletesThroughAMount bind-mounts a directory into a
// staging directory, as a killed debootstrap leaves the host's /dev in its
// target, and checks that removing the staging directory leaves the
// mounted directory's files alone.
func TestAbortNeverDeletesThroughAMount(t *testing.T) {
	precious := t.TempDir()
	if err := os.WriteFile(filepath.Join(precious, "keep"), []byte("host file"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &Cache{Root: t.TempDir()}
	s, err := c.Stage("images")
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(s.Dir, "rootfs", "dev")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount(precious, target, "", syscall.MS_BIND, ""); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("bind mounts need root (euid %d): %v", os.Geteuid(), err)
		}
		t.Fatalf("bind mount: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(target, syscall.MNT_DETACH) })

	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(precious, "keep")); err != nil {
		t.Fatalf("file behind the mount was deleted: %v", err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("staging directory still exists: %v", err)
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:            "/plain",
		`/with\040space`:    "/with space",
		`/tab\011and\134bs`: "/tab\tand\\bs",
		`/trailing\04`:      `/trailing\04`,
	} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}
