package images

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
)

func testDiskBuilder(t *testing.T, opts BuildOptions) (*builder, *fakeRunner) {
	t.Helper()
	opts.Boot = BootDisk
	b, run, _ := testBuilder(t, opts)
	b.inputs.Boot = BootDisk
	b.grubDir = fakeGrubDir(t)
	return b, run
}

func TestBuildDiskLaysOutAPartitionedDisk(t *testing.T) {
	b, run := testDiskBuilder(t, BuildOptions{})
	img, err := b.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	want := []string{"debootstrap", "chroot", "dpkg-query", "sfdisk", "mkfs.ext4", "grub-mkimage", "qemu-img"}
	if got := run.programs(); !slices.Equal(got, want) {
		t.Fatalf("programs run = %v, want %v", got, want)
	}
	work := filepath.Dir(run.calls[0][len(run.calls[0])-2])
	root, raw, core := filepath.Join(work, "root"), filepath.Join(work, "disk.raw"), filepath.Join(work, "core.img")

	if got, want := run.calls[3], []string{"sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", raw}; !slices.Equal(got, want) {
		t.Errorf("sfdisk call = %q, want %q", got, want)
	}
	wantScript := "label: dos\nlabel-id: 0x6c616231\nunit: sectors\n\nstart=2048, type=83, bootable\n"
	if got := run.stdin["sfdisk"]; got != wantScript {
		t.Errorf("sfdisk script =\n%s\nwant\n%s", got, wantScript)
	}
	// The partition starts at 1 MiB and runs to the end of the 4 GiB disk:
	// 4 GiB - 1 MiB = 4193280 KiB.
	wantMkfs := []string{"mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, "-E", "offset=1048576", raw, "4193280k"}
	if got := run.calls[4]; !slices.Equal(got, wantMkfs) {
		t.Errorf("mkfs call =\n%q\nwant\n%q", got, wantMkfs)
	}
	wantGrub := []string{"grub-mkimage", "-O", "i386-pc", "-d", b.grubDir, "-p", "(hd0,msdos1)/boot/grub", "-o", core,
		"biosdisk", "part_msdos", "ext2", "normal", "configfile", "search", "echo", "test", "linux", "boot", "serial", "terminal"}
	if got := run.calls[5]; !slices.Equal(got, wantGrub) {
		t.Errorf("grub-mkimage call =\n%q\nwant\n%q", got, wantGrub)
	}

	// What mkfs took into the filesystem: grub.cfg and the modules, and
	// still the cleaned root of a kernel-boot build.
	for what, want := range map[string]bool{
		"boot/grub/grub.cfg":           true,
		"boot/grub/i386-pc/normal.mod": true,
		"boot/grub/i386-pc/moddep.lst": true,
		"boot/grub/i386-pc/README":     false,
		"etc/ssh/ssh_host_ed25519_key": false,
		"fstab with LABEL=root":        true,
	} {
		if run.seenByMkfs[what] != want {
			t.Errorf("when mkfs ran, %s = %v, want %v", what, run.seenByMkfs[what], want)
		}
	}
	for _, line := range []string{
		"linux /boot/vmlinuz-6.1.0-37-cloud-amd64 root=/dev/vda1 rw console=ttyS0,115200n8 net.ifnames=0 biosdevname=0\n",
		"initrd /boot/initrd.img-6.1.0-37-cloud-amd64\n",
		"serial --unit=0 --speed=115200\n",
		"set timeout=0\n",
	} {
		if !strings.Contains(run.grubCfg, line) {
			t.Errorf("grub.cfg lacks %q:\n%s", line, run.grubCfg)
		}
	}

	// The disk qemu-img converted: boot.img's code in sector 0 up to the
	// disk identifier, the partition table's signature kept, core.img from
	// sector 1, the filesystem at 1 MiB.
	head := run.rawHead
	bootImg, _ := os.ReadFile(filepath.Join(b.grubDir, "boot.img"))
	if !bytes.Equal(head[:440], bootImg[:440]) {
		t.Error("sector 0 does not start with boot.img's first 440 bytes")
	}
	if !bytes.Equal(head[440:510], make([]byte, 70)) || head[510] != 0x55 || head[511] != 0xaa {
		t.Errorf("boot.img overwrote the disk identifier or partition table: % x", head[440:512])
	}
	if !bytes.HasPrefix(head[512:], []byte("corecore")) || binary.LittleEndian.Uint64(head[512+blocklistOffset:]) != 2 {
		t.Error("core.img is not at sector 1")
	}
	if !bytes.Equal(head[512+3*512:1<<20], make([]byte, (1<<20)-4*512)) {
		t.Error("something other than core.img was written before the partition")
	}
	if !bytes.HasPrefix(head[1<<20+1024:], []byte("ext4 from "+root)) {
		t.Error("the filesystem is not at 1 MiB")
	}

	// The manifest and the image: disk boot, no kernel beside the disk.
	if img.Name != "debian-12-disk" || img.Boot != BootDisk || img.Kernel != "" || img.Initrd != "" ||
		img.Key != b.inputs.Key() || !strings.HasPrefix(img.Key, "debian-12-disk-") {
		t.Fatalf("image = %+v", img)
	}
	for k, want := range map[string]string{
		"kernel": "6.1.0-37-cloud-amd64", "bootloader": "grub i386-pc", "root_device": "/dev/vda1",
		"suite": "bookworm", "virtual_size": "4294967296",
	} {
		if img.Metadata[k] != want {
			t.Errorf("metadata %s = %q, want %q", k, img.Metadata[k], want)
		}
	}
	e, err := b.cache.Lookup(Kind, img.Key)
	if err != nil {
		t.Fatal(err)
	}
	if e.Manifest.Metadata["boot"] != "disk" {
		t.Errorf("manifest boot = %q", e.Manifest.Metadata["boot"])
	}
	var names []string
	for _, f := range e.Manifest.Files {
		names = append(names, f.Name)
	}
	if want := []string{DiskFile, PackagesFile}; !slices.Equal(names, want) {
		t.Errorf("entry files = %v, want %v", names, want)
	}
	if left, _ := os.ReadDir(filepath.Join(b.cache.Root, "tmp")); len(left) != 0 {
		t.Errorf("staging directories left: %v", left)
	}
}

// A disk-boot build must not take the kernel-boot image's place: lab
// create's default is "debian-12", whichever was built last.
func TestBuildDiskAndKernelImagesLiveSideBySide(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	kb, _, _ := testBuilder(t, BuildOptions{Cache: c})
	kernel, err := kb.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	db, _ := testDiskBuilder(t, BuildOptions{Cache: c})
	db.now = func() time.Time { return time.Now().Add(time.Hour) }
	disk, err := db.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if disk.Key == kernel.Key {
		t.Fatalf("both images have key %s", disk.Key)
	}
	if got, err := Resolve(c, "debian-12"); err != nil || got.Key != kernel.Key || got.Boot != BootKernel {
		t.Errorf(`Resolve("debian-12") = %+v, %v; want the kernel-boot image`, got, err)
	}
	if got, err := Resolve(c, "debian-12-disk"); err != nil || got.Key != disk.Key || got.Boot != BootDisk {
		t.Errorf(`Resolve("debian-12-disk") = %+v, %v; want the disk-boot image`, got, err)
	}
	if got, err := Resolve(c, disk.Disk[:len(disk.Disk)-len(DiskFile)-1]); err != nil || got.Boot != BootDisk || got.Kernel != "" {
		t.Errorf("Resolve(entry dir) = %+v, %v", got, err)
	}
	db2, run2 := testDiskBuilder(t, BuildOptions{Cache: c})
	if again, err := db2.build(t.Context()); err != nil || again.Key != disk.Key || len(run2.calls) != 0 {
		t.Errorf("second disk build = %+v, %v, ran %v; want the cached image", again, err, run2.programs())
	}
}

func TestResolveNamesTheDiskBuild(t *testing.T) {
	_, err := Resolve(&cache.Cache{Root: t.TempDir()}, "debian-12-disk")
	if err == nil || !strings.Contains(err.Error(), `"lab image build --boot disk"`) {
		t.Errorf("err = %v", err)
	}
}

func TestBuildDiskPreflight(t *testing.T) {
	b, run := testDiskBuilder(t, BuildOptions{})
	run.missing = map[string]bool{"sfdisk": true, "grub-mkimage": true}
	b.grubDir = filepath.Join(t.TempDir(), "no-grub")
	_, err := b.build(t.Context())
	if err == nil || !strings.Contains(err.Error(), "install with: apt-get install -y fdisk grub-common grub-pc-bin") {
		t.Fatalf("err = %v", err)
	}
	if len(run.calls) != 0 {
		t.Errorf("ran %v", run.programs())
	}
	assertNothingLeft(t, b.cache)

	// A kernel-boot build needs none of them.
	kb, krun, _ := testBuilder(t, BuildOptions{})
	krun.missing = run.missing
	kb.grubDir = b.grubDir
	if _, err := kb.build(t.Context()); err != nil {
		t.Errorf("kernel-boot build without GRUB: %v", err)
	}
}

func TestBuildDiskFailuresLeaveNothing(t *testing.T) {
	for _, program := range []string{"sfdisk", "mkfs.ext4", "grub-mkimage"} {
		t.Run(program, func(t *testing.T) {
			b, run := testDiskBuilder(t, BuildOptions{})
			run.fail = map[string]error{program: errors.New("exit status 1")}
			if _, err := b.build(t.Context()); err == nil || !strings.Contains(err.Error(), program) {
				t.Fatalf("err = %v", err)
			}
			assertNothingLeft(t, b.cache)
		})
	}
	t.Run("core.img that does not chain", func(t *testing.T) {
		b, run := testDiskBuilder(t, BuildOptions{})
		run.coreStart = 3
		_, err := b.build(t.Context())
		if err == nil || !strings.Contains(err.Error(), "reads 2 sectors from sector 3; placed at sector 1 it needs 2 from sector 2") {
			t.Fatalf("err = %v", err)
		}
		assertNothingLeft(t, b.cache)
	})
}

func TestCheckBootImages(t *testing.T) {
	boot := func(kernelSector uint64) []byte {
		b := make([]byte, sectorSize)
		binary.LittleEndian.PutUint64(b[bootKernelSector:], kernelSector)
		return b
	}
	core := func(size int, start uint64, count uint16) []byte {
		c := make([]byte, size)
		binary.LittleEndian.PutUint64(c[blocklistOffset:], start)
		binary.LittleEndian.PutUint16(c[blocklistOffset+8:], count)
		return c
	}
	for _, tc := range []struct {
		name       string
		boot, core []byte
		err        string
	}{
		// The sizes grub-mkimage 2.06 gives for the build's module list.
		{"real sizes", boot(1), core(146153, 2, 285), ""},
		{"exactly fills the gap", boot(1), core(2047*512, 2, 2046), ""},
		{"boot.img truncated", boot(1)[:440], core(1024, 2, 1), "boot.img is 440 bytes"},
		{"boot.img loads another sector", boot(2), core(1024, 2, 1), "loads core.img from sector 2, want 1"},
		{"core.img too big", boot(1), core(2048*512, 2, 2047), "takes 2048 sectors; only 2047 fit"},
		{"core.img tiny", boot(1), core(512, 2, 0), "too small"},
		{"blocklist length not filled", boot(1), core(1500, 2, 0), "reads 0 sectors from sector 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBootImages(tc.boot, tc.core)
			if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestWriteBootSectorsWantsAPartitionTable(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "disk.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(1 << 20); err != nil {
		t.Fatal(err)
	}
	if err := writeBootSectors(f, make([]byte, sectorSize), make([]byte, 1024)); err == nil || !strings.Contains(err.Error(), "no partition table") {
		t.Errorf("err = %v", err)
	}
}

func TestBuildBootOption(t *testing.T) {
	if _, err := newBuilder(BuildOptions{Boot: "floppy"}); err == nil || !strings.Contains(err.Error(), `unknown boot "floppy": use kernel or disk`) {
		t.Errorf("err = %v", err)
	}
	for _, boot := range []Boot{"", BootKernel} {
		b, err := newBuilder(BuildOptions{Boot: boot})
		if err != nil || b.inputs.Boot != BootKernel {
			t.Errorf("Boot %q: inputs.Boot = %v, err %v", boot, b.inputs.Boot, err)
		}
	}
	if err := checkDiskArch("arm64"); err == nil || !strings.Contains(err.Error(), "amd64 only") {
		t.Errorf("arm64: %v", err)
	}
}
