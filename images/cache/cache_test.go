package cache

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func stageWith(t *testing.T, c *Cache, kind string, files map[string]string) *Staging {
	t.Helper()
	s, err := c.Stage(kind)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(s.Dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestCommitThenLookup(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	s := stageWith(t, c, "images", map[string]string{"disk.qcow2": "disk", "boot/vmlinuz": "kernel"})
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	e, err := s.Commit("debian-12-0123", Manifest{Name: "debian-12", Source: "built", Created: created,
		Metadata: map[string]string{"suite": "bookworm"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("staging directory still exists after commit: %v", err)
	}
	got, err := c.Lookup("images", "debian-12-0123")
	if err != nil {
		t.Fatal(err)
	}
	if got.Dir != e.Dir || got.Dir != filepath.Join(c.Root, "images", "debian-12-0123") {
		t.Fatalf("entry dir = %q, commit returned %q", got.Dir, e.Dir)
	}
	m := got.Manifest
	if m.Kind != "images" || m.Key != "debian-12-0123" || m.Name != "debian-12" || !m.Created.Equal(created) ||
		m.Metadata["suite"] != "bookworm" {
		t.Fatalf("manifest = %+v", m)
	}
	want := []File{
		{Name: "boot/vmlinuz", SHA256: "6923dd1bc0460082c5d55a831908c24a282860b7f1cd6c2b79cf1bc8857c639c", Size: 6},
		{Name: "disk.qcow2", SHA256: "1044dec7206e8d7c9fbb4ae8f766668406d2567fc7fc1a160a9d4700fcf8f8e9", Size: 4},
	}
	if len(m.Files) != len(want) {
		t.Fatalf("files = %+v, want %+v", m.Files, want)
	}
	for i := range want {
		if m.Files[i] != want[i] {
			t.Fatalf("files = %+v, want %+v", m.Files, want)
		}
	}
	if err := got.Verify(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(got.Path("disk.qcow2"), []byte("DISK"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(); err == nil {
		t.Fatal("Verify accepted a modified file")
	}
	if got.Size() != 10 {
		t.Fatalf("size = %d", got.Size())
	}
}

func TestLookupMissing(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	_, err := c.Lookup("images", "nope")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	// A directory without a manifest is not an entry.
	if err := os.MkdirAll(filepath.Join(c.Root, "images", "half"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup("images", "half"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestBadNames(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	for _, name := range []string{"", "..", "a/b", "tmp", ".hidden"} {
		if _, err := c.Lookup("images", name); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lookup key %q: err = %v, want invalid name", name, err)
		}
		if _, err := c.Stage(name); err == nil {
			t.Errorf("Stage kind %q accepted", name)
		}
	}
}

func TestInterruptedStagingIsNeverVisible(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	s := stageWith(t, c, "images", map[string]string{"disk.qcow2": "half a disk"})
	if _, err := c.Lookup("images", filepath.Base(s.Dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("staging visible via Lookup: %v", err)
	}
	entries, err := c.List()
	if err != nil || len(entries) != 0 {
		t.Fatalf("List = %v, %v; want nothing", entries, err)
	}
	if err := s.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("abort left %s: %v", s.Dir, err)
	}
	if err := s.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
}

func TestStageRemovesStaleStagingOfDeadProcesses(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	old := time.Now().Add(-2 * time.Hour)

	dead := stageWith(t, c, "images", map[string]string{"disk.qcow2": "x"})
	dead.release() // the process was killed: its lock is gone, the directory stays
	live := stageWith(t, c, "images", map[string]string{"disk.qcow2": "y"})
	young := stageWith(t, c, "images", nil)
	young.release()
	other := stageWith(t, c, "etcd", nil)
	other.release()
	for _, dir := range []string{dead.Dir, live.Dir, other.Dir} {
		if err := os.Chtimes(dir, old, old); err != nil {
			t.Fatal(err)
		}
	}

	s, err := c.Stage("images")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	exists := func(dir string) bool { _, err := os.Stat(dir); return err == nil }
	if exists(dead.Dir) {
		t.Error("stale unlocked staging directory was not removed")
	}
	if !exists(live.Dir) {
		t.Error("staging directory of a live Staging was removed")
	}
	if !exists(young.Dir) {
		t.Error("staging directory younger than an hour was removed")
	}
	if !exists(other.Dir) {
		t.Error("staging directory of another kind was removed")
	}
	if _, err := live.Commit("k", Manifest{Name: "live"}); err != nil {
		t.Fatalf("live staging cannot commit: %v", err)
	}
}

func TestList(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	if entries, err := c.List(); err != nil || len(entries) != 0 {
		t.Fatalf("List of an absent root = %v, %v", entries, err)
	}
	for _, ek := range [][2]string{{"images", "b"}, {"etcd", "v3.6.16"}, {"images", "a"}} {
		s := stageWith(t, c, ek[0], map[string]string{"f": ek[1]})
		if _, err := s.Commit(ek[1], Manifest{Name: ek[1]}); err != nil {
			t.Fatal(err)
		}
	}
	pending := stageWith(t, c, "images", map[string]string{"f": "pending"})
	defer pending.Abort()

	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Manifest.Kind+"/"+e.Manifest.Key)
	}
	want := []string{"etcd/v3.6.16", "images/a", "images/b"}
	if len(got) != len(want) {
		t.Fatalf("List = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("List = %v, want %v", got, want)
		}
	}
}

func TestConcurrentCommitOfOneKey(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	const n = 8
	var wg sync.WaitGroup
	dirs := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.Stage("images")
			if err != nil {
				errs[i] = err
				return
			}
			if err := os.WriteFile(filepath.Join(s.Dir, "disk"), []byte("same content"), 0o644); err != nil {
				errs[i] = err
				return
			}
			e, err := s.Commit("same", Manifest{Name: "same"})
			if err != nil {
				errs[i] = err
				return
			}
			dirs[i] = e.Dir
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("commit %d: %v", i, errs[i])
		}
		if dirs[i] != filepath.Join(c.Root, "images", "same") {
			t.Fatalf("commit %d returned %q", i, dirs[i])
		}
	}
	keys, _ := os.ReadDir(filepath.Join(c.Root, "images"))
	if len(keys) != 1 {
		t.Fatalf("images/ holds %d entries, want 1", len(keys))
	}
	left, _ := os.ReadDir(filepath.Join(c.Root, tmpDir))
	if len(left) != 0 {
		t.Fatalf("tmp/ still holds %d directories", len(left))
	}
	if e, err := c.Lookup("images", "same"); err != nil || e.Verify() != nil {
		t.Fatalf("entry after concurrent commits: %v", err)
	}
}

func TestCommitKeepsExistingReplaceOverwrites(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	first := stageWith(t, c, "images", map[string]string{"disk": "first"})
	if _, err := first.Commit("k", Manifest{Name: "first"}); err != nil {
		t.Fatal(err)
	}
	second := stageWith(t, c, "images", map[string]string{"disk": "second"})
	e, err := second.Commit("k", Manifest{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Manifest.Name != "first" {
		t.Fatalf("Commit over an existing key returned %q, want the existing entry", e.Manifest.Name)
	}
	if _, err := os.Stat(second.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("losing staging directory was not removed")
	}
	third := stageWith(t, c, "images", map[string]string{"disk": "third"})
	e, err = third.Replace("k", Manifest{Name: "third"})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(e.Path("disk"))
	if e.Manifest.Name != "third" || string(data) != "third" {
		t.Fatalf("Replace kept %q / %q", e.Manifest.Name, data)
	}
	if _, err := third.Commit("k", Manifest{}); err == nil {
		t.Fatal("second commit of one staging accepted")
	}
}

func TestRemove(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	s := stageWith(t, c, "etcd", map[string]string{"etcd": "bin"})
	if _, err := s.Commit("v1", Manifest{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove("etcd", "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup("etcd", "v1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("entry still there: %v", err)
	}
	if err := c.Remove("etcd", "v1"); err != nil {
		t.Fatalf("removing an absent entry: %v", err)
	}
}

func TestDefaultRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		if got := DefaultRoot(); got != "/var/cache/lab" {
			t.Fatalf("DefaultRoot as root = %q", got)
		}
		return
	}
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := DefaultRoot(); got != "/x/cache/lab" {
		t.Fatalf("DefaultRoot = %q", got)
	}
}

func TestPartialPath(t *testing.T) {
	c := &Cache{Root: t.TempDir()}
	p, err := c.PartialPath("images", "debian-12-cloud-0123", "disk.qcow2")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.Root, "tmp", "partial", "images-debian-12-cloud-0123-disk.qcow2"); p != want {
		t.Fatalf("PartialPath = %q, want %q", p, want)
	}
	if _, err := c.PartialPath("images", "../x", "f"); err == nil {
		t.Fatal("PartialPath accepted a key with a slash")
	}
	fresh := p + ".part"
	old, _ := c.PartialPath("images", "old", "disk.qcow2")
	otherKind, _ := c.PartialPath("etcd", "old", "etcd.tar.gz")
	for _, f := range []string{fresh, old, otherKind} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	weekAgo := time.Now().Add(-8 * 24 * time.Hour)
	os.Chtimes(old, weekAgo, weekAgo)
	os.Chtimes(otherKind, weekAgo, weekAgo)
	s, err := c.Stage("images")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Error("week-old partial download was kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("fresh partial download was removed")
	}
	if _, err := os.Stat(otherKind); err != nil {
		t.Error("partial download of another kind was removed")
	}
	if entries, err := c.List(); err != nil || len(entries) != 0 {
		t.Fatalf("partial downloads show up in List: %v %v", entries, err)
	}
}
