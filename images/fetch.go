package images

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/images/download"
	"github.com/kthw-lab/lab/progress"
)

// cloudImage is an official cloud image in the fetch catalog.
type cloudImage struct {
	// BaseURL is the directory holding the image and its checksum file.
	BaseURL   string
	File      string
	Checksums string
	Algorithm download.Algorithm
}

// catalog lists the cloud images Fetch knows, by distro name. The URLs
// are the distributions' "latest release" directories for amd64.
var catalog = map[string]*cloudImage{
	"debian-12": {
		BaseURL:   "https://cloud.debian.org/images/cloud/bookworm/latest/",
		File:      "debian-12-genericcloud-amd64.qcow2",
		Checksums: "SHA512SUMS",
		Algorithm: download.SHA512,
	},
	"ubuntu-24.04": {
		BaseURL:   "https://cloud-images.ubuntu.com/noble/current/",
		File:      "noble-server-cloudimg-amd64.img",
		Checksums: "SHA256SUMS",
		Algorithm: download.SHA256,
	},
}

// Distros lists the distro names Fetch accepts.
func Distros() []string {
	names := make([]string, 0, len(catalog))
	for name := range catalog {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// CloudName is the image name of a fetched distro: "debian-12-cloud".
func CloudName(distro string) string { return distro + "-cloud" }

func (c *cloudImage) imageName() string {
	for name, img := range catalog {
		if img == c {
			return CloudName(name)
		}
	}
	return ""
}

// catalogByImageName returns the distro whose fetched image has the name.
func catalogByImageName(name string) string {
	distro, ok := strings.CutSuffix(name, "-cloud")
	if _, known := catalog[distro]; ok && known {
		return distro
	}
	return ""
}

func cloudNames() []string {
	var names []string
	for _, d := range Distros() {
		names = append(names, CloudName(d))
	}
	return names
}

// FetchOptions is a request to download an official cloud image.
type FetchOptions struct {
	// Cache stores the image; nil means the default cache.
	Cache *cache.Cache
	// Distro is one of Distros().
	Distro string
	// BaseURL replaces the catalog's download directory, for a local
	// mirror of the cloud images (and for tests).
	BaseURL string
	// Progress receives progress; nil discards it.
	Progress *progress.Printer
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// Fetch downloads the distro's cloud image, verifies it against the
// distribution's published checksum file and stores it in the cache keyed
// by the published digest. When the published digest is already cached,
// nothing is downloaded. When the checksum file cannot be fetched but an
// image of the distro is cached, that image is returned with a note on
// Status.
func Fetch(ctx context.Context, opts FetchOptions) (*Image, error) {
	img, ok := catalog[opts.Distro]
	if !ok {
		return nil, fmt.Errorf("fetching image: unknown distro %q (known: %s)", opts.Distro, strings.Join(Distros(), ", "))
	}
	c := opts.Cache
	if c == nil {
		c = cache.New("")
	}
	name := CloudName(opts.Distro)
	base := img.BaseURL
	if opts.BaseURL != "" {
		base = opts.BaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	sumsURL, fileURL := base+img.Checksums, base+img.File

	sums, err := download.FetchChecksums(ctx, opts.Client, sumsURL)
	if err != nil {
		if cached, lerr := Resolve(c, name); lerr == nil {
			opts.Progress.Printf("could not check for a newer %s (%v); using the cached one", name, err)
			return cached, nil
		}
		return nil, fmt.Errorf("fetching image %s: %w", name, err)
	}
	digest, ok := sums[img.File]
	if !ok {
		return nil, fmt.Errorf("fetching image %s: %s does not list %s", name, sumsURL, img.File)
	}
	key := name + "-" + digest[:16]
	if e, err := c.Lookup(Kind, key); err == nil {
		opts.Progress.Printf("image %s is cached (%s)", name, e.Dir)
		return fromEntry(e)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("fetching image %s: %w", name, err)
	}

	plan := fetchPlan{name: name, key: key, url: fileURL, sumsURL: sumsURL, digest: digest, algo: img.Algorithm}
	e, err := plan.fetchInto(ctx, c, opts)
	if err != nil {
		return nil, fmt.Errorf("fetching image %s: %w", name, err)
	}
	return fromEntry(e)
}

// fetchPlan is what Fetch has worked out before it downloads.
type fetchPlan struct {
	name, key    string
	url, sumsURL string
	digest       string
	algo         download.Algorithm
}

func (p fetchPlan) fetchInto(ctx context.Context, c *cache.Cache, opts FetchOptions) (*cache.Entry, error) {
	// The download goes to a path that survives this process, so an
	// interrupted fetch resumes next time; only the verified file is moved
	// into the staging directory.
	dest, err := c.PartialPath(Kind, p.key, DiskFile)
	if err != nil {
		return nil, err
	}
	end := opts.Progress.Start("downloading %s", p.url)
	err = download.Get(ctx, download.Request{URL: p.url, Dest: dest, Digest: p.digest, Algorithm: p.algo,
		Progress: opts.Progress, Client: opts.Client})
	end(err)
	if err != nil {
		return nil, err
	}
	out, err := c.Stage(Kind)
	if err != nil {
		return nil, err
	}
	defer out.Abort()
	if err := os.Rename(dest, filepath.Join(out.Dir, DiskFile)); err != nil {
		return nil, fmt.Errorf("moving the download into the cache: %w", err)
	}
	e, err := out.Commit(p.key, cache.Manifest{
		Name:   p.name,
		Source: p.url,
		Metadata: map[string]string{
			metaBoot:      string(BootDisk),
			metaDigest:    string(p.algo) + ":" + p.digest,
			metaDistro:    opts.Distro,
			metaChecksums: p.sumsURL,
		},
	})
	if err != nil {
		return nil, err
	}
	opts.Progress.Printf("image %s stored in %s", p.name, e.Dir)
	return e, nil
}
