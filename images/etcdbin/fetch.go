package etcdbin

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/images/download"
	"github.com/kthw-lab/lab/progress"
)

// DefaultReleaseBaseURL is where etcd publishes its release assets: the
// tarball of vX is <base>/vX/etcd-vX-linux-amd64.tar.gz, next to
// <base>/vX/SHA256SUMS.
const DefaultReleaseBaseURL = "https://github.com/etcd-io/etcd/releases/download"

// downloadDir is the staging subdirectory holding the tarball; it is
// removed before the entry is committed.
const downloadDir = "download"

// FetchOptions says which etcd release to download and where to keep it.
type FetchOptions struct {
	// Cache receives the binaries.
	Cache *cache.Cache
	// Version is the release to fetch, such as "v3.4.7"; empty means
	// PinnedVersion.
	Version string
	// Force downloads again even when the cache has the release.
	Force bool
	// Progress and Logger report progress; both may be nil.
	Progress *progress.Printer
	Logger   *slog.Logger
	// BaseURL replaces DefaultReleaseBaseURL (tests, mirrors).
	BaseURL string
	// Client makes the HTTP requests; nil means http.DefaultClient.
	Client *http.Client
}

// release is where the assets of one etcd release are.
type release struct {
	version    version
	tarball    string // file name
	tarballURL string
	sumsURL    string
	topDir     string // directory inside the tarball
}

func newRelease(base string, v version) release {
	if base == "" {
		base = DefaultReleaseBaseURL
	}
	base = strings.TrimRight(base, "/") + "/" + v.String() + "/"
	top := "etcd-" + v.String() + "-linux-amd64"
	return release{
		version:    v,
		tarball:    top + ".tar.gz",
		tarballURL: base + top + ".tar.gz",
		sumsURL:    base + "SHA256SUMS",
		topDir:     top,
	}
}

// Fetch downloads the official linux-amd64 release tarball of an etcd
// version, verifies it against the release's SHA256SUMS, extracts etcd and
// etcdctl and stores them in the cache, or returns the cached pair when it
// is already there (unless Force). Any 3.x release works, including those
// Build cannot build.
func Fetch(ctx context.Context, opts FetchOptions) (*Binaries, error) {
	name := opts.Version
	if name == "" {
		name = PinnedVersion()
	}
	v, err := parseVersion(name)
	if err != nil {
		return nil, err
	}
	if opts.Cache == nil {
		return nil, errors.New("fetching etcd: no cache given")
	}
	if !opts.Force {
		b, replace, err := fromCache(opts.Cache, v, originRelease, opts.Progress, "fetching")
		if err != nil || b != nil {
			return b, err
		}
		opts.Force = replace
	}
	b, err := fetch(ctx, newRelease(opts.BaseURL, v), opts)
	if err != nil {
		return nil, fmt.Errorf("fetching etcd %s: %w", v, err)
	}
	return b, nil
}

func fetch(ctx context.Context, r release, opts FetchOptions) (*Binaries, error) {
	end := opts.Progress.Start("fetching checksums for etcd %s", r.version)
	sums, err := download.FetchChecksums(ctx, opts.Client, r.sumsURL)
	end(err)
	if err != nil {
		return nil, notFound(r, r.sumsURL, err)
	}
	digest, ok := sums[r.tarball]
	if !ok {
		return nil, fmt.Errorf("%s lists no %s", r.sumsURL, r.tarball)
	}

	stage, err := opts.Cache.Stage(Kind)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	dl := filepath.Join(stage.Dir, downloadDir)
	if err := os.Mkdir(dl, 0o755); err != nil {
		return nil, fmt.Errorf("creating download directory: %w", err)
	}
	tarball := filepath.Join(dl, r.tarball)
	end = opts.Progress.Start("downloading %s", r.tarballURL)
	err = download.Get(ctx, download.Request{
		URL:       r.tarballURL,
		Dest:      tarball,
		Digest:    digest,
		Algorithm: download.SHA256,
		Progress:  opts.Progress,
		Client:    opts.Client,
	})
	end(err)
	if err != nil {
		return nil, notFound(r, r.tarballURL, err)
	}
	if opts.Logger != nil {
		opts.Logger.Debug("verified etcd release tarball", "url", r.tarballURL, "sha256", digest)
	}

	if err := extractRelease(tarball, stage.Dir, r.topDir); err != nil {
		return nil, fmt.Errorf("extracting %s: %w", r.tarball, err)
	}
	if err := os.RemoveAll(dl); err != nil {
		return nil, fmt.Errorf("removing the downloaded tarball: %w", err)
	}
	etcd, etcdctl := filepath.Join(stage.Dir, EtcdFile), filepath.Join(stage.Dir, EtcdctlFile)
	if hostRunsGuestBinaries() {
		if err := checkVersions(ctx, r.version.String(), etcd, etcdctl); err != nil {
			return nil, fmt.Errorf("checking the released binaries: %w", err)
		}
	}
	m := cache.Manifest{
		Name:   "etcd " + r.version.String(),
		Source: r.tarballURL,
		Metadata: map[string]string{
			metaVersion: r.version.String(),
			metaOrigin:  originRelease,
			metaTarball: digest,
			metaURL:     r.tarballURL,
		},
	}
	commit := stage.Commit
	if opts.Force {
		commit = stage.Replace
	}
	e, err := commit(cacheKey(r.version, originRelease), m)
	if err != nil {
		return nil, err
	}
	opts.Progress.Printf("etcd %s release verified and unpacked into %s", r.version, e.Dir)
	return fromEntry(e)
}

// notFound turns a 404 into an error that says the release does not exist
// and lists known ones; other errors pass through.
func notFound(r release, url string, err error) error {
	var status *download.StatusError
	if errors.As(err, &status) && status.Code == http.StatusNotFound {
		return fmt.Errorf("etcd release %s not found at %s; known versions: %s", r.version, url, knownList())
	}
	return err
}

// extractRelease takes etcd and etcdctl from the top directory of a
// release tarball into dir.
func extractRelease(tarball, dir, top string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("reading gzip: %w", err)
	}
	defer zr.Close()
	return extractFiles(zr, dir, map[string]string{
		top + "/" + EtcdFile:    EtcdFile,
		top + "/" + EtcdctlFile: EtcdctlFile,
	})
}
