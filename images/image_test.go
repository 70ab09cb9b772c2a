package images

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
)

// putImage commits a fake image entry.
func putImage(t *testing.T, c *cache.Cache, name, key string, boot Boot, created time.Time) {
	t.Helper()
	s, err := c.Stage(Kind)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{DiskFile}
	if boot == BootKernel {
		files = append(files, KernelFile, InitrdFile)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(s.Dir, f), []byte(name+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meta := map[string]string{metaBoot: string(boot)}
	source := "built"
	if boot == BootDisk {
		meta[metaDigest] = "sha512:" + strings.Repeat("ab", 64)
		source = "https://images.example/" + name
	}
	if _, err := s.Commit(key, cache.Manifest{Name: name, Source: source, Created: created, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
}

func TestListAndResolve(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	putImage(t, c, "debian-12", "debian-12-old", BootKernel, t0)
	putImage(t, c, "debian-12", "debian-12-new", BootKernel, t0.Add(time.Hour))
	putImage(t, c, "ubuntu-24.04-cloud", "ubuntu-24.04-cloud-0123", BootDisk, t0)
	// Another kind in the same cache is not an image.
	s, _ := c.Stage("etcd")
	os.WriteFile(filepath.Join(s.Dir, "etcd"), []byte("bin"), 0o755)
	s.Commit("v3.6.16", cache.Manifest{Name: "etcd"})

	images, err := List(c)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, img := range images {
		keys = append(keys, img.Key)
	}
	if got, want := strings.Join(keys, " "), "debian-12-new debian-12-old ubuntu-24.04-cloud-0123"; got != want {
		t.Fatalf("List keys = %s, want %s", got, want)
	}

	for ref, wantKey := range map[string]string{
		"debian-12":          "debian-12-new",
		"ubuntu-24.04-cloud": "ubuntu-24.04-cloud-0123",
		"ubuntu-24.04":       "ubuntu-24.04-cloud-0123",
	} {
		img, err := Resolve(c, ref)
		if err != nil {
			t.Fatalf("Resolve(%q): %v", ref, err)
		}
		if img.Key != wantKey {
			t.Errorf("Resolve(%q) = %s, want %s", ref, img.Key, wantKey)
		}
	}
	ubuntu, _ := Resolve(c, "ubuntu-24.04")
	if ubuntu.Boot != BootDisk || ubuntu.Kernel != "" || ubuntu.Digest != "sha512:"+strings.Repeat("ab", 64) {
		t.Errorf("fetched image = %+v", ubuntu)
	}
	debian, _ := Resolve(c, "debian-12")
	if debian.Boot != BootKernel || debian.Kernel == "" || !strings.HasPrefix(debian.Digest, "sha256:") || debian.Size == 0 {
		t.Errorf("built image = %+v", debian)
	}

	byDir, err := Resolve(c, filepath.Dir(debian.Disk))
	if err != nil || byDir.Key != "debian-12-new" {
		t.Errorf("Resolve(entry dir) = %+v, %v", byDir, err)
	}
	own := filepath.Join(t.TempDir(), "mine.qcow2")
	os.WriteFile(own, []byte("qcow2"), 0o644)
	byFile, err := Resolve(c, own)
	if err != nil || byFile.Disk != own || byFile.Boot != BootDisk || byFile.Name != "mine.qcow2" || byFile.Size != 5 {
		t.Errorf("Resolve(file) = %+v, %v", byFile, err)
	}
	if _, err := Resolve(c, filepath.Join(t.TempDir(), "none.qcow2")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve(missing file) err = %v", err)
	}
}

func TestResolveMissingSaysHowToCreate(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	for ref, want := range map[string]string{
		"debian-12":          `"lab image build"`,
		"debian-12-cloud":    `"lab image fetch --distro debian-12"`,
		"ubuntu-24.04":       `"lab image fetch --distro ubuntu-24.04"`,
		"ubuntu-24.04-cloud": `"lab image fetch --distro ubuntu-24.04"`,
		"fedora":             "known names: debian-12 (from \"lab image build\"), debian-12-cloud, ubuntu-24.04-cloud",
	} {
		_, err := Resolve(c, ref)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Resolve(%q) err = %v, want not-exist", ref, err)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "the cache is empty") {
			t.Errorf("Resolve(%q) err = %q, want it to mention %s", ref, err, want)
		}
	}
	putImage(t, c, "debian-12", "debian-12-k", BootKernel, time.Now())
	_, err := Resolve(c, "debian-12-cloud")
	if err == nil || !strings.Contains(err.Error(), "cached: debian-12") {
		t.Errorf("err = %v, want it to list the cached images", err)
	}
}
