package images

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

var hostSources = fstest.MapFS{
	"etc/apt/sources.list.d/debian.sources": {Data: []byte(
		"Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n" +
			"Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n")},
}

func testBuilder(t *testing.T, opts BuildOptions) (*builder, *fakeRunner, *bytes.Buffer) {
	t.Helper()
	run := &fakeRunner{}
	var out bytes.Buffer
	if opts.Cache == nil {
		opts.Cache = &cache.Cache{Root: t.TempDir()}
	}
	opts.Runner, opts.Progress = run, progress.New(&out, false)
	b, err := newBuilder(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.geteuid = func() int { return 0 }
	b.hostFS = hostSources
	b.inputs.Arch = "amd64" // the fake runner's tree and the golden key are for amd64
	b.inputs.Packages = Packages("amd64")
	return b, run, &out
}

// assertNothingLeft checks that a failed build left no entry and no
// staging directory.
func assertNothingLeft(t *testing.T, c *cache.Cache) {
	t.Helper()
	if images, err := List(c); err != nil || len(images) != 0 {
		t.Errorf("cache lists %v (err %v) after a failed build", images, err)
	}
	left, _ := os.ReadDir(filepath.Join(c.Root, "tmp"))
	for _, d := range left {
		t.Errorf("left in %s/tmp: %s", c.Root, d.Name())
	}
}

func TestBuildRunsTheStepsAndCommits(t *testing.T) {
	b, run, out := testBuilder(t, BuildOptions{})
	img, err := b.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	want := []string{"debootstrap", "chroot", "dpkg-query", "mkfs.ext4", "qemu-img"}
	if got := run.programs(); !slices.Equal(got, want) {
		t.Fatalf("programs run = %v, want %v", got, want)
	}
	work := filepath.Dir(run.calls[0][len(run.calls[0])-2])
	wantDebootstrap := []string{"debootstrap", "--variant=minbase", "--arch=amd64", "--components=main",
		"--include=" + strings.Join(Packages("amd64"), ","), "bookworm", filepath.Join(work, "root"), "http://mirror.example/debian"}
	if !slices.Equal(run.calls[0], wantDebootstrap) {
		t.Errorf("debootstrap call =\n%q\nwant\n%q", run.calls[0], wantDebootstrap)
	}
	if !strings.HasPrefix(work, filepath.Join(b.cache.Root, "tmp", "rootfs-")) {
		t.Errorf("root filesystem built in %s, want a cache staging directory", work)
	}
	if got := run.calls[1]; !slices.Equal(got, []string{"chroot", filepath.Join(work, "root"), "/usr/sbin/locale-gen"}) {
		t.Errorf("locale call = %q", got)
	}
	wantMkfs := []string{"mkfs.ext4", "-q", "-F", "-L", "root", "-d", filepath.Join(work, "root"), filepath.Join(work, "disk.raw")}
	if !slices.Equal(run.calls[3], wantMkfs) {
		t.Errorf("mkfs call = %q, want %q", run.calls[3], wantMkfs)
	}
	for what, want := range map[string]bool{
		"etc/ssh/ssh_host_ed25519_key":    false,
		"var/cache/apt/archives/bash.deb": false,
		"etc/resolv.conf":                 false,
		"fstab with LABEL=root":           true,
	} {
		if run.seenByMkfs[what] != want {
			t.Errorf("when mkfs ran, %s = %v, want %v", what, run.seenByMkfs[what], want)
		}
	}

	key := b.inputs.Key()
	if img.Name != "debian-12" || img.Key != key || img.Source != "built" || img.Boot != BootKernel {
		t.Fatalf("image = %+v", img)
	}
	dir := filepath.Join(b.cache.Root, Kind, key)
	if img.Disk != filepath.Join(dir, DiskFile) || img.Kernel != filepath.Join(dir, KernelFile) || img.Initrd != filepath.Join(dir, InitrdFile) {
		t.Fatalf("paths = %s %s %s", img.Disk, img.Kernel, img.Initrd)
	}
	if kernel, _ := os.ReadFile(img.Kernel); string(kernel) != "kernel" {
		t.Errorf("copied kernel %q, want the newest (6.1.0-37)", kernel)
	}
	if initrd, _ := os.ReadFile(img.Initrd); string(initrd) != "initrd" {
		t.Errorf("copied initrd %q", initrd)
	}
	if disk, _ := os.ReadFile(img.Disk); !strings.HasPrefix(string(disk), "QFI") {
		t.Errorf("disk = %q", disk)
	}
	if img.Metadata["kernel"] != "6.1.0-37-cloud-amd64" || img.Metadata["suite"] != "bookworm" ||
		img.Metadata["mirror"] != "http://mirror.example/debian" || img.Metadata["virtual_size"] != "4294967296" {
		t.Errorf("metadata = %v", img.Metadata)
	}
	if img.Packages["cloud-init"] != "1.0-10" || img.Packages["libc6"] == "" {
		t.Errorf("packages = %v", img.Packages)
	}
	if !strings.HasPrefix(img.Digest, "sha256:") || len(img.Digest) != len("sha256:")+64 {
		t.Errorf("digest = %q", img.Digest)
	}
	e, err := b.cache.Lookup(Kind, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Verify(); err != nil {
		t.Error(err)
	}
	var names []string
	for _, f := range e.Manifest.Files {
		names = append(names, f.Name)
	}
	if want := []string{DiskFile, InitrdFile, PackagesFile, KernelFile}; !slices.Equal(names, want) {
		t.Errorf("entry files = %v, want %v", names, want)
	}
	left, _ := os.ReadDir(filepath.Join(b.cache.Root, "tmp"))
	if len(left) != 0 {
		t.Errorf("staging directories left: %v", left)
	}
	if !strings.Contains(out.String(), "✓ debootstrap bookworm from http://mirror.example/debian") {
		t.Errorf("progress lacks the debootstrap step:\n%s", out)
	}
}

func TestBuildSecondTimeUsesTheCache(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	b, _, _ := testBuilder(t, BuildOptions{Cache: c})
	first, err := b.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b2, run2, _ := testBuilder(t, BuildOptions{Cache: c, Mirror: "http://other.example/debian"})
	start := time.Now()
	second, err := b2.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond {
		t.Errorf("cached build took %s", elapsed)
	}
	if len(run2.calls) != 0 {
		t.Errorf("cached build ran %v", run2.programs())
	}
	if second.Key != first.Key || second.Metadata["mirror"] != "http://mirror.example/debian" {
		t.Errorf("a different mirror did not reuse the image: %+v", second)
	}

	b3, run3, _ := testBuilder(t, BuildOptions{Cache: c, Force: true, Mirror: "http://other.example/debian"})
	b3.now = func() time.Time { return time.Now().Add(time.Hour) }
	third, err := b3.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(run3.calls) == 0 || third.Key != first.Key || !third.Created.After(first.Created) ||
		third.Metadata["mirror"] != "http://other.example/debian" {
		t.Errorf("forced build did not replace the image: %+v", third)
	}
	if images, _ := List(c); len(images) != 1 {
		t.Errorf("cache holds %d images after a forced rebuild, want 1", len(images))
	}
}

func TestBuildPreflight(t *testing.T) {
	t.Run("not root", func(t *testing.T) {
		b, run, _ := testBuilder(t, BuildOptions{})
		b.geteuid = func() int { return 1000 }
		_, err := b.build(t.Context())
		if !errors.Is(err, errNotRoot) || !strings.Contains(err.Error(), "image build needs root for debootstrap: run it with sudo (or as root)") {
			t.Fatalf("err = %v", err)
		}
		if len(run.calls) != 0 {
			t.Errorf("ran %v", run.programs())
		}
		assertNothingLeft(t, b.cache)
	})
	t.Run("missing programs", func(t *testing.T) {
		b, run, _ := testBuilder(t, BuildOptions{})
		run.missing = map[string]bool{"debootstrap": true, "qemu-img": true}
		_, err := b.build(t.Context())
		if err == nil || !strings.Contains(err.Error(), "debootstrap, qemu-img not found: install with: apt-get install -y debootstrap qemu-utils") {
			t.Fatalf("err = %v", err)
		}
		if len(run.calls) != 0 {
			t.Errorf("ran %v", run.programs())
		}
	})
}

// An Ubuntu host (a GitHub runner) serves no Debian suite: the build takes
// Debian's own mirror and says why, instead of failing.
func TestBuildOnUbuntuHost(t *testing.T) {
	b, run, out := testBuilder(t, BuildOptions{})
	b.hostFS = fstest.MapFS{"etc/apt/sources.list.d/ubuntu.sources": {Data: []byte(`Types: deb
URIs: http://archive.ubuntu.com/ubuntu/
Suites: noble noble-updates noble-backports
Components: main restricted universe multiverse
Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg
`)}}
	img, err := b.build(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(run.calls) == 0 || run.calls[0][0] != "debootstrap" || run.calls[0][len(run.calls[0])-1] != DebianMirror {
		t.Errorf("first call %v, want debootstrap from %s", run.calls[:min(1, len(run.calls))], DebianMirror)
	}
	if img.Metadata["mirror"] != DebianMirror {
		t.Errorf("image metadata mirror = %q", img.Metadata["mirror"])
	}
	if !strings.Contains(out.String(), "do not serve bookworm") {
		t.Errorf("progress does not say why Debian's mirror was taken:\n%s", out)
	}
}

func TestBuildFailuresLeaveNothing(t *testing.T) {
	for _, program := range []string{"debootstrap", "chroot", "mkfs.ext4", "qemu-img"} {
		t.Run(program, func(t *testing.T) {
			b, run, out := testBuilder(t, BuildOptions{})
			run.fail = map[string]error{program: errors.New("exit status 1")}
			_, err := b.build(t.Context())
			if err == nil || !strings.Contains(err.Error(), program) || !strings.Contains(err.Error(), "fake failure") {
				t.Fatalf("err = %v", err)
			}
			if program == "debootstrap" && !strings.Contains(err.Error(), "Couldn't find these debs") {
				t.Errorf("error does not quote debootstrap.log: %v", err)
			}
			if !strings.Contains(out.String(), "✗") {
				t.Errorf("progress does not show the failed step:\n%s", out)
			}
			assertNothingLeft(t, b.cache)
		})
	}
}

func TestBuildChecksInstalledPackages(t *testing.T) {
	b, run, _ := testBuilder(t, BuildOptions{})
	run.dpkg = []byte("libc6\t2.36\nbash\t5.2\n")
	_, err := b.build(t.Context())
	if err == nil || !strings.Contains(err.Error(), "requested but is not installed") {
		t.Fatalf("err = %v", err)
	}
	assertNothingLeft(t, b.cache)
}

func TestBuildCancelled(t *testing.T) {
	b, _, _ := testBuilder(t, BuildOptions{})
	ctx, cancel := contextCancelled(t)
	cancel()
	_, err := b.build(ctx)
	if err == nil {
		t.Fatal("cancelled build succeeded")
	}
	assertNothingLeft(t, b.cache)
}
