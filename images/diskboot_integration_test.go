//go:build integration

package images

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

// TestBuildDiskReal builds the disk-boot image for real (about two
// minutes), looks at its partition table, boot sectors and filesystem with
// the host's tools, and boots it under qemu (TCG, no network, the disk in
// snapshot mode) far enough to see GRUB start the kernel with root on
// partition 1. The full path through lab create is e2e's TestDiskBoot.
func TestBuildDiskReal(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	var out bytes.Buffer
	start := time.Now()
	img, err := Build(t.Context(), BuildOptions{Cache: c, Boot: BootDisk, Progress: progress.New(&out, false)})
	t.Logf("progress:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("disk-boot build took %s: %s, %s", time.Since(start).Round(time.Second), img.Key, progress.Bytes(img.Size))
	if img.Name != "debian-12-disk" || img.Boot != BootDisk || img.Kernel != "" || img.Initrd != "" {
		t.Errorf("image = %+v", img)
	}
	entries, _ := os.ReadDir(filepath.Dir(img.Disk))
	for _, e := range entries {
		if e.Name() == KernelFile || e.Name() == InitrdFile {
			t.Errorf("the entry holds %s", e.Name())
		}
	}

	raw := filepath.Join(t.TempDir(), "disk.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", img.Disk, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	dump, err := exec.Command("sfdisk", "--dump", raw).Output()
	if err != nil {
		t.Fatalf("sfdisk --dump: %v", err)
	}
	// 4 GiB in sectors, less the first MiB.
	if want := "start=        2048, size=     8386560, type=83, bootable"; !strings.Contains(string(dump), want) {
		t.Errorf("partition table:\n%s\nwant a partition %s", dump, want)
	}

	f, err := os.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 4*sectorSize)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	boot, err := os.ReadFile(filepath.Join(defaultGrubDir, "boot.img"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(head[:bootCodeSize], boot[:bootCodeSize]) {
		t.Error("sector 0 does not hold boot.img's code")
	}
	if got := binary.LittleEndian.Uint64(head[sectorSize+blocklistOffset:]); got != 2 {
		t.Errorf("core.img at sector 1 reads its rest from sector %d, want 2", got)
	}
	if !bytes.Contains(head[sectorSize:2*sectorSize], []byte("loading")) {
		t.Error("sector 1 does not look like GRUB's diskboot.img")
	}

	part := fmt.Sprintf("%s?offset=%d", raw, partitionStart*sectorSize)
	debugfs := func(req string) string {
		out, err := exec.Command("debugfs", "-R", req, part).Output()
		if err != nil {
			t.Fatalf("debugfs -R %q: %v", req, err)
		}
		return string(out)
	}
	cfg := debugfs("cat /boot/grub/grub.cfg")
	if !strings.Contains(cfg, "linux /boot/vmlinuz-"+img.Metadata["kernel"]+" root=/dev/vda1 rw console=ttyS0") {
		t.Errorf("grub.cfg:\n%s", cfg)
	}
	if got := debugfs("ls /boot/grub/i386-pc"); !strings.Contains(got, "normal.mod") {
		t.Errorf("/boot/grub/i386-pc lacks GRUB's modules: %s", got)
	}
	if got := debugfs("cat /etc/fstab"); !strings.Contains(got, "LABEL=root / ext4") {
		t.Errorf("/etc/fstab = %q", got)
	}
	if out, err := exec.Command("e2fsck", "-fn", part).CombinedOutput(); err != nil {
		t.Errorf("e2fsck: %v\n%s", err, out)
	}

	console := bootToRoot(t, img.Disk, 3*time.Minute)
	for _, want := range []string{"BOOT_IMAGE=/boot/vmlinuz-", "root=/dev/vda1", "EXT4-fs (vda1): re-mounted"} {
		if !strings.Contains(console, want) {
			t.Errorf("the console lacks %q", want)
		}
	}
}

// bootToRoot starts qemu on disk until the guest has remounted its root
// read-write, and returns the serial console.
func bootToRoot(t *testing.T, disk string, limit time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	log := filepath.Join(t.TempDir(), "console.log")
	cmd := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-display", "none",
		"-serial", "file:"+log, "-net", "none", "-no-reboot",
		"-drive", "file="+disk+",if=virtio,format=qcow2,snapshot=on")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	start := time.Now()
	for ctx.Err() == nil {
		time.Sleep(2 * time.Second)
		console, _ := os.ReadFile(log)
		if bytes.Contains(console, []byte("EXT4-fs (vda1): re-mounted")) {
			t.Logf("root on vda1 remounted %s after qemu started", time.Since(start).Round(time.Second))
			return string(console)
		}
	}
	console, _ := os.ReadFile(log)
	t.Errorf("no read-write root within %s; console ends:\n%s", limit, tailString(string(console), 3000))
	return string(console)
}

func tailString(s string, n int) string { return s[max(0, len(s)-n):] }
