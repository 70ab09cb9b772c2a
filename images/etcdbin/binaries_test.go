package etcdbin

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/images/cache"
)

// cacheEntry commits a fake etcd pair of version v from origin.
func cacheEntry(t *testing.T, c *cache.Cache, v, origin string) *cache.Entry {
	t.Helper()
	s, err := c.Stage(Kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{EtcdFile, EtcdctlFile} {
		write(t, filepath.Join(s.Dir, name), []byte(fakeScript(name, strings.TrimPrefix(v, "v"))))
	}
	e, err := s.Commit(v+"-"+origin+"-linux-amd64", cache.Manifest{
		Name: "etcd " + v, Source: origin,
		Metadata: map[string]string{metaVersion: v, metaOrigin: origin},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestResolve(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	cacheEntry(t, c, "v3.4.7", originRelease)
	cacheEntry(t, c, "v3.6.16", originRelease)
	built := cacheEntry(t, c, "v3.6.16", originBuilt)

	b, err := Resolve(c, "3.4.7")
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != "v3.4.7" || b.Source != originRelease || b.Etcd != filepath.Join(c.Root, "etcd/v3.4.7-release-linux-amd64/etcd") {
		t.Errorf("Resolve(3.4.7) = %+v", b)
	}
	b, err = Resolve(c, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != PinnedVersion() || b.CacheDir != built.Dir {
		t.Errorf("Resolve(\"\") = %+v, want the built pinned version", b)
	}
	f, _ := built.File(EtcdFile)
	if b.SHA256[EtcdFile] != f.SHA256 {
		t.Errorf("SHA256 = %v, manifest says %s", b.SHA256, f.SHA256)
	}
}

func TestResolveMissing(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	_, err := Resolve(c, "v3.6.16")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want one matching fs.ErrNotExist", err)
	}
	for _, w := range []string{"etcd v3.6.16 is not in cache " + c.Root, "lab etcd build --version v3.6.16", "lab etcd fetch --version v3.6.16", "--etcd-binary"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}
	_, err = Resolve(c, "v3.4.7")
	if err == nil || strings.Contains(err.Error(), "lab etcd build") || !strings.Contains(err.Error(), "lab etcd fetch --version v3.4.7") {
		t.Errorf("error %v should name only fetch for a version that cannot be built", err)
	}
	if _, err := Resolve(c, "newest"); err == nil || errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "invalid etcd version") {
		t.Errorf("Resolve(newest) err = %v, want an invalid version error", err)
	}
}

func TestResolveDamagedEntry(t *testing.T) {
	c := &cache.Cache{Root: t.TempDir()}
	e := cacheEntry(t, c, "v3.6.16", originBuilt)
	if err := os.Remove(e.Path(EtcdctlFile)); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(c, "v3.6.16")
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "lab etcd build --force --version v3.6.16") {
		t.Errorf("err = %v, want a damaged entry error naming the rebuild", err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a damaged entry must not look like a missing one: %v", err)
	}
}
