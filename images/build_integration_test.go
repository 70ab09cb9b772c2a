//go:build integration

package images

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

// TestBuildReal runs the real debootstrap build (about three minutes),
// then builds again to measure the cached path, and looks inside the disk
// with debugfs for what the configure step promises.
func TestBuildReal(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	var out bytes.Buffer
	opts := BuildOptions{Cache: c, Progress: progress.New(&out, false)}

	start := time.Now()
	img, err := Build(t.Context(), opts)
	cold := time.Since(start)
	t.Logf("progress:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	again, err := Build(t.Context(), opts)
	warm := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold build %s, warm build %s, image %s in %s, disk %s", cold.Round(time.Second), warm, progress.Bytes(img.Size), img.Key, img.Disk)
	if warm > time.Second {
		t.Errorf("cached build took %s, want well under a second", warm)
	}
	if again.Key != img.Key || again.Disk != img.Disk {
		t.Errorf("second build returned %+v, want the cached %+v", again, img)
	}
	if img.Name != "debian-12" || img.Boot != BootKernel {
		t.Errorf("image = %+v", img)
	}
	for _, p := range []string{"cloud-init", "locales", "dmsetup", "openssh-server", "linux-image-cloud-amd64", "sudo"} {
		if img.Packages[p] == "" {
			t.Errorf("package %s not recorded", p)
		}
	}
	for _, f := range []string{img.Kernel, img.Initrd} {
		if info, err := os.Stat(f); err != nil || info.Size() < 1<<20 {
			t.Errorf("%s: %v", f, err)
		}
	}
	info, err := exec.Command("qemu-img", "info", img.Disk).CombinedOutput()
	if err != nil || !strings.Contains(string(info), "file format: qcow2") || !strings.Contains(string(info), "virtual size: 4 GiB") {
		t.Errorf("qemu-img info: %v\n%s", err, info)
	}
	e, err := c.Lookup(Kind, img.Key)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Verify(); err != nil {
		t.Error(err)
	}

	raw := filepath.Join(t.TempDir(), "disk.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", img.Disk, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	debugfs := func(req string) string {
		out, err := exec.Command("debugfs", "-R", req, raw).Output()
		if err != nil {
			t.Fatalf("debugfs -R %q: %v", req, err)
		}
		return string(out)
	}
	if got := debugfs("cat /etc/fstab"); !strings.Contains(got, "LABEL=root / ext4") {
		t.Errorf("/etc/fstab = %q", got)
	}
	if got := debugfs("ls /etc/ssh"); strings.Contains(got, "ssh_host_") {
		t.Errorf("/etc/ssh still holds host keys: %s", got)
	}
	if got := debugfs("stat /etc/machine-id"); !strings.Contains(got, "Size: 0") {
		t.Errorf("/etc/machine-id is not empty: %s", got)
	}
	if got := debugfs("ls /usr/lib/locale"); !strings.Contains(got, "locale-archive") {
		t.Errorf("no generated locales: %s", got)
	}
	if got := debugfs("ls /var/cache/apt/archives"); strings.Contains(got, ".deb") {
		t.Errorf("downloaded packages left in the image: %s", got)
	}
	if out, err := exec.Command("e2fsck", "-fn", raw).CombinedOutput(); err != nil {
		t.Errorf("e2fsck: %v\n%s", err, out)
	}
}

// TestBuildInterrupted cancels a real build in the middle of debootstrap
// and checks that nothing is left: no entry, no staging directory, and no
// mount under the cache.
func TestBuildInterrupted(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	_, err := Build(ctx, BuildOptions{Cache: c})
	if err == nil {
		t.Fatal("build finished in 40 s; cannot test an interruption")
	}
	t.Logf("interrupted build: %v", err)
	images, err := List(c)
	if err != nil || len(images) != 0 {
		t.Fatalf("List after interruption = %v, %v", images, err)
	}
	left, _ := os.ReadDir(filepath.Join(c.Root, "tmp"))
	for _, d := range left {
		t.Errorf("left in tmp/: %s", d.Name())
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), c.Root) {
		t.Errorf("mounts left under %s:\n%s", c.Root, mounts)
	}
}
