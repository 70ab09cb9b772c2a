package etcdbin

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/progress"
)

// Kind is the cache kind under which etcd binaries are stored.
const Kind = "etcd"

// File names of the binaries, in the cache and on the guests.
const (
	EtcdFile    = "etcd"
	EtcdctlFile = "etcdctl"
)

// Metadata keys in the cache manifest.
const (
	metaVersion = "version"
	metaOrigin  = "origin"
	metaGo      = "go_version"
	metaTarball = "tarball_sha256"
	metaURL     = "url"
)

// Origins, recorded in the manifest and used in cache keys.
const (
	originBuilt   = "built"
	originRelease = "release"
)

// SourceBuilt is the Source of binaries built by Build.
const SourceBuilt = "built from Go modules"

// Binaries is a pair of etcd binaries for linux/amd64 guests.
type Binaries struct {
	// Version is the etcd version, such as "v3.6.16"; empty when FromPath
	// could not tell.
	Version string
	// Etcd is the path of the etcd server binary.
	Etcd string
	// Etcdctl is the path of etcdctl; empty when FromPath found none.
	Etcdctl string
	// Source says where the binaries came from: SourceBuilt, the release
	// tarball's URL, or "local file PATH".
	Source string
	// SHA256 maps each file name (EtcdFile, EtcdctlFile) to its hex digest.
	SHA256 map[string]string
	// CacheDir is the cache entry holding the binaries, when they are cached.
	CacheDir string
}

// cacheKey names the cache entry of a version from one origin, e.g.
// "v3.6.16-built-linux-amd64".
func cacheKey(v version, origin string) string {
	return fmt.Sprintf("%s-%s-linux-amd64", v, origin)
}

// NotCachedError reports that no binaries of a version are in the cache.
// It matches fs.ErrNotExist with errors.Is.
type NotCachedError struct {
	Version string
	Root    string
}

// Error names the version, the cache and the commands that would fill it.
func (e *NotCachedError) Error() string {
	hint := fmt.Sprintf("run `lab etcd fetch --version %s`", e.Version)
	v, err := parseVersion(e.Version)
	switch {
	case err == nil && v.buildable():
		hint = fmt.Sprintf("run `lab etcd build --version %s` or `lab etcd fetch --version %s`", e.Version, e.Version)
	case err == nil && v.minor == 4:
		hint = fmt.Sprintf("run `lab etcd fetch --version %s` (etcd's release) or `lab etcd fetch --from debian --version %s` (Debian bookworm has v3.4.23)", e.Version, e.Version)
	}
	return fmt.Sprintf("etcd %s is not in cache %s: %s, or pass --etcd-binary PATH", e.Version, e.Root, hint)
}

// Is makes errors.Is(err, fs.ErrNotExist) true.
func (e *NotCachedError) Is(target error) bool { return target == fs.ErrNotExist }

// Resolve finds cached binaries of versionName (empty means PinnedVersion),
// preferring ones built from Go modules over a fetched release, and a
// release over Debian's package. When
// neither is cached the error is a *NotCachedError naming the command that
// fills the cache.
func Resolve(c *cache.Cache, versionName string) (*Binaries, error) {
	if versionName == "" {
		versionName = PinnedVersion()
	}
	v, err := parseVersion(versionName)
	if err != nil {
		return nil, err
	}
	for _, origin := range []string{originBuilt, originRelease, originDebian} {
		b, err := lookup(c, v, origin)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, &NotCachedError{Version: v.String(), Root: c.Root}
}

// lookup returns the cached binaries of v from origin. An entry whose files
// are missing or have the wrong size is a *damagedError.
func lookup(c *cache.Cache, v version, origin string) (*Binaries, error) {
	e, err := c.Lookup(Kind, cacheKey(v, origin))
	if err != nil {
		return nil, err
	}
	b, err := fromEntry(e)
	if err != nil {
		fix := "lab etcd fetch --force --version " + v.String()
		if origin == originBuilt {
			fix = "lab etcd build --force --version " + v.String()
		}
		return nil, &damagedError{dir: e.Dir, reason: err.Error(), fix: fix}
	}
	return b, nil
}

// damagedError is a cache entry whose files do not match its manifest. It
// deliberately wraps nothing: a missing file inside an entry must not look
// like a missing entry.
type damagedError struct {
	dir, reason, fix string
}

func (e *damagedError) Error() string {
	return fmt.Sprintf("cache entry %s is damaged (%s): run `%s`", e.dir, e.reason, e.fix)
}

// fromEntry turns a cache entry into Binaries, checking that both files
// are there with the size the manifest records. It does not re-hash them:
// that would cost a noticeable part of a second on every lookup.
func fromEntry(e *cache.Entry) (*Binaries, error) {
	b := &Binaries{
		Version:  e.Manifest.Metadata[metaVersion],
		Source:   e.Manifest.Source,
		SHA256:   map[string]string{},
		CacheDir: e.Dir,
	}
	for _, name := range []string{EtcdFile, EtcdctlFile} {
		f, ok := e.File(name)
		if !ok {
			return nil, fmt.Errorf("manifest lists no %s", name)
		}
		info, err := os.Stat(e.Path(name))
		if err != nil {
			return nil, err
		}
		if info.Size() != f.Size {
			return nil, fmt.Errorf("%s is %d bytes, manifest says %d", name, info.Size(), f.Size)
		}
		b.SHA256[name] = f.SHA256
	}
	b.Etcd, b.Etcdctl = e.Path(EtcdFile), e.Path(EtcdctlFile)
	return b, nil
}

// originLabels say where binaries of an origin came from, for people.
var originLabels = map[string]string{originBuilt: "built from Go modules", originRelease: "official release",
	originDebian: "Debian package"}

// fromCache returns the cached binaries of v from origin, nil when there
// are none, and replace when the entry is damaged and must be made again
// (redo says how: "building", "fetching").
func fromCache(c *cache.Cache, v version, origin string, status *progress.Printer, redo string) (b *Binaries, replace bool, err error) {
	b, err = lookup(c, v, origin)
	var damaged *damagedError
	switch {
	case err == nil:
		status.Printf("etcd %s (%s) is cached in %s", v, originLabels[origin], b.CacheDir)
		return b, false, nil
	case errors.As(err, &damaged):
		status.Printf("cache entry %s is damaged (%s); %s it again", damaged.dir, damaged.reason, redo)
		return nil, true, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, false, nil
	}
	return nil, false, err
}

// Cached is one etcd in the cache, as List returns it.
type Cached struct {
	Binaries
	// Origin is where it came from, for people: "built from Go modules",
	// "official release", "Debian package".
	Origin string
	// Detail is what the origin adds: Debian's package version and how its
	// Release was checked.
	Detail string
}

// List returns every etcd in the cache, by version then origin. A damaged
// entry is listed with its problem as Detail.
func List(c *cache.Cache) ([]Cached, error) {
	entries, err := c.List()
	if err != nil {
		return nil, err
	}
	var out []Cached
	for _, e := range entries {
		if e.Manifest.Kind != Kind {
			continue
		}
		origin := e.Manifest.Metadata[metaOrigin]
		item := Cached{Origin: cmp.Or(originLabels[origin], origin)}
		b, err := fromEntry(&e)
		if err != nil {
			item.Version, item.CacheDir = e.Manifest.Metadata[metaVersion], e.Dir
			item.Detail = "damaged: " + err.Error()
		} else {
			item.Binaries = *b
		}
		if d := e.Manifest.Metadata[metaDebian]; d != "" && err == nil {
			item.Detail = "package " + d + ", Release " + e.Manifest.Metadata[metaSigned]
		}
		out = append(out, item)
	}
	slices.SortFunc(out, func(a, b Cached) int {
		return cmp.Or(cmp.Compare(a.Version, b.Version), cmp.Compare(a.Origin, b.Origin))
	})
	return out, nil
}
