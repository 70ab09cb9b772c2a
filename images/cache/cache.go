package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// ManifestFile is the name of the manifest inside every entry directory.
const ManifestFile = "manifest.json"

// tmpDir is the directory under the root that holds staging directories.
// It is not a valid kind, so List never mistakes it for one.
const tmpDir = "tmp"

// Cache is a content-addressed cache rooted at a directory.
type Cache struct {
	// Root is the directory holding <kind>/<key>/ entries and tmp/.
	Root string
}

// New returns a cache rooted at root, or at DefaultRoot when root is empty.
func New(root string) *Cache {
	if root == "" {
		root = DefaultRoot()
	}
	return &Cache{Root: root}
}

// DefaultRoot is /var/cache/lab for root and $XDG_CACHE_HOME/lab (falling
// back to ~/.cache/lab) for everyone else.
func DefaultRoot() string {
	if os.Geteuid() == 0 {
		return "/var/cache/lab"
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "lab")
	}
	return filepath.Join(os.TempDir(), "lab-cache")
}

// File describes one file of an entry.
type File struct {
	// Name is the path relative to the entry directory, with forward slashes.
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Manifest describes an entry. Commit fills in Kind, Key, Files and (when
// zero) Created; the caller supplies the rest.
type Manifest struct {
	// Name is the human name of the artefact, such as "debian-12".
	Name string `json:"name"`
	Kind string `json:"kind"`
	Key  string `json:"key"`
	// Source says where the content came from: "built", or a URL.
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
	Files   []File    `json:"files"`
	// Metadata is free-form, owned by the package that writes the kind.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Entry is a complete entry in the cache.
type Entry struct {
	// Dir is the entry directory.
	Dir      string
	Manifest Manifest
}

// Path returns the path of a file inside the entry.
func (e *Entry) Path(file string) string {
	return filepath.Join(e.Dir, filepath.FromSlash(file))
}

// File returns the manifest record of the named file.
func (e *Entry) File(name string) (File, bool) {
	for _, f := range e.Manifest.Files {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Size is the total size of the entry's files in bytes.
func (e *Entry) Size() int64 {
	var n int64
	for _, f := range e.Manifest.Files {
		n += f.Size
	}
	return n
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// checkName rejects kinds and keys that are not a single safe path element.
func checkName(what, name string) error {
	if !namePattern.MatchString(name) || name == tmpDir {
		return fmt.Errorf("invalid cache %s %q: want letters, digits, '.', '_', '+' or '-'", what, name)
	}
	return nil
}

func (c *Cache) entryDir(kind, key string) string {
	return filepath.Join(c.Root, kind, key)
}

// Lookup returns the complete entry kind/key. When there is none, the error
// wraps fs.ErrNotExist.
func (c *Cache) Lookup(kind, key string) (*Entry, error) {
	if err := checkName("kind", kind); err != nil {
		return nil, err
	}
	if err := checkName("key", key); err != nil {
		return nil, err
	}
	e, err := readEntry(c.entryDir(kind, key))
	if err != nil {
		return nil, fmt.Errorf("looking up %s/%s in cache %s: %w", kind, key, c.Root, err)
	}
	return e, nil
}

// ReadEntry reads the entry in dir, for callers given an entry's path
// rather than its kind and key. A directory without a manifest is not an
// entry: the error then wraps fs.ErrNotExist.
func ReadEntry(dir string) (*Entry, error) {
	e, err := readEntry(dir)
	if err != nil {
		return nil, fmt.Errorf("reading cache entry %s: %w", dir, err)
	}
	return e, nil
}

func readEntry(dir string) (*Entry, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	e := &Entry{Dir: dir}
	if err := json.Unmarshal(data, &e.Manifest); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return e, nil
}

// List returns every complete entry of every kind, sorted by kind and key.
// Directories without a manifest are not entries and are skipped.
func (c *Cache) List() ([]Entry, error) {
	kinds, err := os.ReadDir(c.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing cache %s: %w", c.Root, err)
	}
	var entries []Entry
	for _, k := range kinds {
		if !k.IsDir() || checkName("kind", k.Name()) != nil {
			continue
		}
		keys, err := os.ReadDir(filepath.Join(c.Root, k.Name()))
		if err != nil {
			return nil, fmt.Errorf("listing cache %s: %w", c.Root, err)
		}
		for _, key := range keys {
			if !key.IsDir() {
				continue
			}
			e, err := readEntry(filepath.Join(c.Root, k.Name(), key.Name()))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("listing cache %s: %w", c.Root, err)
			}
			entries = append(entries, *e)
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		a, b := entries[i].Manifest, entries[j].Manifest
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Key < b.Key
	})
	return entries, nil
}

// Remove deletes the entry kind/key. It first renames the entry out of
// place, so a concurrent Lookup sees either the whole entry or none.
// Removing an absent entry is not an error.
func (c *Cache) Remove(kind, key string) error {
	if err := checkName("kind", kind); err != nil {
		return err
	}
	if err := checkName("key", key); err != nil {
		return err
	}
	if err := c.discard(c.entryDir(kind, key), kind); err != nil {
		return fmt.Errorf("removing %s/%s from cache %s: %w", kind, key, c.Root, err)
	}
	return nil
}

// discard moves dir into the tmp directory and deletes it there.
func (c *Cache) discard(dir, kind string) error {
	if err := os.MkdirAll(filepath.Join(c.Root, tmpDir), 0o755); err != nil {
		return err
	}
	trash, err := os.MkdirTemp(filepath.Join(c.Root, tmpDir), "removed-"+kind+"-")
	if err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(trash, "entry")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		os.Remove(trash)
		return err
	}
	return removeTree(trash)
}
