package lab

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A lab name becomes a directory: no name may lead out of the state
// directory or name the state directory itself.
func TestNewStoreRefusesBadNames(t *testing.T) {
	root := t.TempDir()
	stateDir := filepath.Join(root, "state")
	for _, name := range []string{"../victim", "", ".", "..", "../../..", "a/b", "/etc", strings.Repeat("a", 33), "a" + strings.Repeat("b", 11), "Kthw", "kthw-", "-kthw", "1lab", "a b", "a\x00b"} {
		s, err := NewStore(stateDir, name)
		if err == nil {
			t.Errorf("NewStore(%q) = %q, want an error", name, s.Dir)
			continue
		}
		if !strings.Contains(err.Error(), "--lab") {
			t.Errorf("NewStore(%q): %v does not name --lab", name, err)
		}
	}
	for _, name := range []string{"kthw", "a", "own-1", "abcdefghijk"} {
		s, err := NewStore(stateDir, name)
		if err != nil {
			t.Errorf("NewStore(%q): %v", name, err)
			continue
		}
		if filepath.Dir(s.Dir) != stateDir {
			t.Errorf("NewStore(%q).Dir = %q, not directly inside %q", name, s.Dir, stateDir)
		}
	}
	if _, err := NewStore("", "kthw"); err == nil {
		t.Error("NewStore with no state directory succeeded")
	}
}

// Destroy of a lab whose directory lab did not make (no marker) leaves it
// as it is; with the marker, only what lab writes goes.
func TestRemoveOnlyWhatLabWrote(t *testing.T) {
	f := newFixture(t)
	if err := os.MkdirAll(filepath.Join(f.store.Dir, "pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(f.store.Dir, "pki", "precious")
	if err := os.WriteFile(victim, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("destroy removed a directory without lab's marker: %v", err)
	}
	if _, err := f.store.Remove(); err == nil {
		t.Fatal("Remove of an unmarked directory succeeded")
	}
	if _, err := os.Stat(victim); err != nil {
		t.Fatalf("Remove removed a directory without lab's marker: %v", err)
	}
	// A store that is not empty and has no marker is not taken over.
	if _, err := EnsureKeys(f.store, f.opts.Plan); err == nil || !strings.Contains(err.Error(), "marker") {
		t.Fatalf("Keys into an unmarked, non-empty directory: %v", err)
	}

	g := newFixture(t)
	if _, err := EnsureKeys(g.store, g.opts.Plan); err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(g.store.Dir, "notes.txt")
	if err := os.WriteFile(theirs, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	if err := os.WriteFile(keep, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A planted link in place of a directory lab writes is removed, not followed.
	if err := os.Symlink(outside, filepath.Join(g.store.Dir, "console")); err != nil {
		t.Fatal(err)
	}
	if err := Destroy(t.Context(), g.store, g.prov, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(theirs); err != nil || string(b) != "mine" {
		t.Fatalf("a file lab did not write went with the store: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("destroy followed a symbolic link: %v", err)
	}
	for _, e := range storeEntries {
		if _, err := os.Lstat(filepath.Join(g.store.Dir, e)); e != markerFile && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left after destroy: %v", e, err)
		}
	}
}

// A second create or destroy of a lab while one holds its lock is refused,
// naming the holder; a released lock can be taken again.
func TestLockRefusesSecondLocker(t *testing.T) {
	f := newFixture(t)
	if err := f.store.Init(); err != nil {
		t.Fatal(err)
	}
	unlock, err := f.store.Lock()
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.store.Lock()
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid ") || !strings.Contains(err.Error(), filepath.Base(os.Args[0])) {
		t.Fatalf("second locker: %v, want ErrLocked naming the pid and command", err)
	}
	if _, err := Create(t.Context(), f.opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("create while locked: %v", err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("destroy while locked: %v", err)
	}
	unlock()
	unlock2, err := f.store.Lock()
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}
