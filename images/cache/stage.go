package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// staleAfter is how old an unlocked staging directory must be before a
// later Stage removes it. The lock alone tells a dead owner from a live one;
// the age protects a directory in the instant between its creation and its
// lock.
const staleAfter = time.Hour

// Staging is a directory in which a new entry is assembled. Write the files
// into Dir, then Commit or Abort. The directory is locked while it is open,
// so other processes can tell it from one a killed process left behind.
type Staging struct {
	// Dir is the directory to write the entry's files into.
	Dir string

	cache *Cache
	kind  string
	lock  *os.File
}

// Stage creates a staging directory for a new entry of kind. It also removes
// the staging directories of that kind left behind by dead processes.
func (c *Cache) Stage(kind string) (*Staging, error) {
	if err := checkName("kind", kind); err != nil {
		return nil, err
	}
	tmp := filepath.Join(c.Root, tmpDir)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("creating cache staging directory: %w", err)
	}
	c.removeStale(kind, time.Now())
	c.removeOldPartials(kind, time.Now())
	dir, err := os.MkdirTemp(tmp, kind+"-")
	if err != nil {
		return nil, fmt.Errorf("creating cache staging directory: %w", err)
	}
	// MkdirTemp makes 0700; entries must be readable by other users
	// (qemu reads kernels and disks as its own user).
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("creating cache staging directory: %w", err)
	}
	lock, err := lockDir(dir, false)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("locking cache staging directory %s: %w", dir, err)
	}
	return &Staging{Dir: dir, cache: c, kind: kind, lock: lock}, nil
}

// lockDir takes an exclusive flock on dir. With nonBlocking it fails at
// once when another open file holds the lock.
func lockDir(dir string, nonBlocking bool) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if nonBlocking {
		how |= syscall.LOCK_NB
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// removeStale deletes staging directories of kind that are older than
// staleAfter and not locked by a live Staging. Failures are ignored: a
// leftover directory costs disk space, not correctness.
func (c *Cache) removeStale(kind string, now time.Time) {
	tmp := filepath.Join(c.Root, tmpDir)
	names, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, n := range names {
		if !n.IsDir() || !isStagingOf(n.Name(), kind) {
			continue
		}
		info, err := n.Info()
		if err != nil || now.Sub(info.ModTime()) < staleAfter {
			continue
		}
		dir := filepath.Join(tmp, n.Name())
		lock, err := lockDir(dir, true)
		if err != nil {
			continue // held by a live process, or already gone
		}
		removeTree(dir)
		lock.Close()
	}
}

// isStagingOf tells whether a tmp directory name belongs to kind: the name
// is kind, a dash and MkdirTemp's all-digit suffix (so kind "etcd" does not
// claim the directories of a kind "etcd-src").
func isStagingOf(name, kind string) bool {
	suffix, ok := strings.CutPrefix(name, kind+"-")
	if !ok || suffix == "" {
		return false
	}
	return strings.Trim(suffix, "0123456789") == ""
}

// Abort removes the staging directory. It is safe to call after Commit (it
// then does nothing), so callers can defer it.
func (s *Staging) Abort() error {
	if s.lock == nil {
		return nil
	}
	err := removeTree(s.Dir)
	s.release()
	if err != nil {
		return fmt.Errorf("removing cache staging directory %s: %w", s.Dir, err)
	}
	return nil
}

func (s *Staging) release() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// Commit hashes every file in the staging directory, writes the manifest
// and renames the directory into place as kind/key. If a complete entry
// with that key already exists (another process committed it first), the
// existing one is kept, the staging directory is removed, and the existing
// entry is returned.
func (s *Staging) Commit(key string, m Manifest) (*Entry, error) {
	return s.commit(key, m, false)
}

// Replace is Commit that replaces an existing entry with the same key
// (a forced rebuild). The old entry is moved aside before the new one is
// renamed in, so Lookup sees the old entry, briefly none, then the new one.
func (s *Staging) Replace(key string, m Manifest) (*Entry, error) {
	return s.commit(key, m, true)
}

func (s *Staging) commit(key string, m Manifest, replace bool) (*Entry, error) {
	if s.lock == nil {
		return nil, fmt.Errorf("committing %s/%s: staging directory already committed or aborted", s.kind, key)
	}
	if err := checkName("key", key); err != nil {
		return nil, err
	}
	e, err := s.commitLocked(key, m, replace)
	if err != nil {
		s.Abort()
		return nil, fmt.Errorf("committing %s/%s to cache %s: %w", s.kind, key, s.cache.Root, err)
	}
	return e, nil
}

func (s *Staging) commitLocked(key string, m Manifest, replace bool) (*Entry, error) {
	files, err := hashTree(s.Dir)
	if err != nil {
		return nil, err
	}
	m.Kind, m.Key, m.Files = s.kind, key, files
	if m.Created.IsZero() {
		m.Created = time.Now().UTC()
	}
	if err := writeManifest(s.Dir, m); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(s.cache.Root, s.kind), 0o755); err != nil {
		return nil, err
	}
	final := s.cache.entryDir(s.kind, key)
	if replace {
		if err := s.cache.discard(final, s.kind); err != nil {
			return nil, fmt.Errorf("moving the old entry aside: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		err := os.Rename(s.Dir, final)
		if err == nil {
			s.release()
			return &Entry{Dir: final, Manifest: m}, nil
		}
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			return nil, err
		}
		existing, lookupErr := readEntry(final)
		if lookupErr == nil {
			s.Abort()
			return existing, nil
		}
		// A directory without a manifest cannot come from Commit; it was
		// made by hand or damaged. Clear it once and try again.
		if attempt > 0 {
			return nil, fmt.Errorf("%s exists and is not a complete entry: %w", final, lookupErr)
		}
		if err := s.cache.discard(final, s.kind); err != nil {
			return nil, err
		}
	}
}

// hashTree lists the regular files under dir (except the manifest) with
// their sha256 and size, sorted by name. Other file types are refused: an
// entry is plain data.
func hashTree(dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.IsDir():
			return nil
		case rel == ManifestFile:
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", path)
		}
		f, err := hashFile(path)
		if err != nil {
			return err
		}
		f.Name = filepath.ToSlash(rel)
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hashing files: %w", err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

func hashFile(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return File{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// writeManifest writes the manifest and syncs it, so the rename that
// publishes the entry never publishes an empty manifest after a crash.
func writeManifest(dir string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, ManifestFile))
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing manifest: %w", err)
	}
	return os.Chmod(filepath.Join(dir, ManifestFile), 0o644)
}

// Verify re-hashes the entry's files and reports any that are missing or
// differ from the manifest.
func (e *Entry) Verify() error {
	var errs []error
	for _, want := range e.Manifest.Files {
		got, err := hashFile(e.Path(want.Name))
		switch {
		case err != nil:
			errs = append(errs, err)
		case got.SHA256 != want.SHA256 || got.Size != want.Size:
			errs = append(errs, fmt.Errorf("%s: sha256 %s (%d bytes), manifest says %s (%d bytes)",
				want.Name, got.SHA256, got.Size, want.SHA256, want.Size))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("verifying cache entry %s: %w", e.Dir, err)
	}
	return nil
}
