package images

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kthw-lab/lab/images/cache"
)

// Kind is the cache kind under which images are stored.
const Kind = "images"

// Boot says how a VM starts an image.
type Boot string

const (
	// BootKernel images are started by direct kernel boot with the image's
	// Kernel and Initrd and root=/dev/vda.
	BootKernel Boot = "kernel"
	// BootDisk images carry their own boot loader: fetched cloud images,
	// and images built with BuildOptions.Boot = BootDisk (GRUB on an MBR
	// disk, root=/dev/vda1). Their entries hold no kernel or initrd.
	BootDisk Boot = "disk"
)

// Files inside an image entry.
const (
	DiskFile     = "disk.qcow2"
	KernelFile   = "vmlinuz"
	InitrdFile   = "initrd.img"
	PackagesFile = "packages.txt"
)

// Metadata keys in an image entry's manifest.
const (
	metaBoot        = "boot"
	metaDigest      = "digest"
	metaSuite       = "suite"
	metaMirror      = "mirror"
	metaArch        = "arch"
	metaKernel      = "kernel"
	metaVirtualSize = "virtual_size"
	metaDistro      = "distro"
	metaChecksums   = "checksums_url"
	metaBootloader  = "bootloader"  // BootDisk: "grub i386-pc"
	metaRootDevice  = "root_device" // BootDisk: the root partition in the guest
	metaPackage     = "package:"    // prefix: package:NAME = version
)

// Image is a base guest image ready to be used for a VM's system disk.
type Image struct {
	// Name is "debian-12" for a built image, "<distro>-cloud" for a
	// fetched one, or the file name for an image given by path.
	Name string `json:"name"`
	// Key is the image's cache key; empty for an image given by path.
	Key string `json:"key,omitempty"`
	// Source is "built" or the URL the image was downloaded from (or the
	// path it was given by).
	Source string `json:"source"`
	Boot   Boot   `json:"boot"`
	// Disk is the qcow2 system disk.
	Disk string `json:"disk"`
	// Kernel and Initrd are set for BootKernel images.
	Kernel string `json:"kernel,omitempty"`
	Initrd string `json:"initrd,omitempty"`
	// Size is the bytes the image takes in the cache (all its files).
	Size int64 `json:"size"`
	// Digest is "algorithm:hex" of the disk: the distribution's published
	// digest for fetched images, the sha256 for built ones.
	Digest  string    `json:"digest"`
	Created time.Time `json:"created"`
	// Packages maps package names to versions for built images.
	Packages map[string]string `json:"-"`
	// Metadata is the rest of the manifest's metadata (suite, mirror,
	// kernel version, virtual size, distro).
	Metadata map[string]string `json:"metadata,omitempty"`
}

// fromEntry turns a cache entry of kind images into an Image.
func fromEntry(e *cache.Entry) (*Image, error) {
	m := e.Manifest
	disk, ok := e.File(DiskFile)
	if !ok {
		return nil, fmt.Errorf("image entry %s has no %s", e.Dir, DiskFile)
	}
	img := &Image{
		Name:     m.Name,
		Key:      m.Key,
		Source:   m.Source,
		Boot:     Boot(m.Metadata[metaBoot]),
		Disk:     e.Path(DiskFile),
		Size:     e.Size(),
		Digest:   m.Metadata[metaDigest],
		Created:  m.Created,
		Metadata: map[string]string{},
	}
	if img.Digest == "" {
		img.Digest = "sha256:" + disk.SHA256
	}
	for k, v := range m.Metadata {
		if name, ok := strings.CutPrefix(k, metaPackage); ok {
			if img.Packages == nil {
				img.Packages = map[string]string{}
			}
			img.Packages[name] = v
			continue
		}
		if k != metaBoot && k != metaDigest {
			img.Metadata[k] = v
		}
	}
	switch img.Boot {
	case BootKernel:
		img.Kernel, img.Initrd = e.Path(KernelFile), e.Path(InitrdFile)
	case BootDisk:
	default:
		return nil, fmt.Errorf("image entry %s has unknown boot %q", e.Dir, img.Boot)
	}
	return img, nil
}

// List returns the images in the cache, by name and newest first within a
// name. Entries that are not valid images are skipped.
func List(c *cache.Cache) ([]Image, error) {
	entries, err := c.List()
	if err != nil {
		return nil, err
	}
	var images []Image
	for i := range entries {
		if entries[i].Manifest.Kind != Kind {
			continue
		}
		img, err := fromEntry(&entries[i])
		if err != nil {
			continue
		}
		images = append(images, *img)
	}
	sort.SliceStable(images, func(i, j int) bool {
		if images[i].Name != images[j].Name {
			return images[i].Name < images[j].Name
		}
		return images[i].Created.After(images[j].Created)
	})
	return images, nil
}

// Resolve finds the image a command should use. ref is an image name (the
// newest cached image of that name wins; see the package documentation for
// names), a distro name of the fetch catalog, or a path: a qcow2 file
// (booted from disk) or a cache entry directory. When nothing matches, the
// error wraps fs.ErrNotExist and says which command creates the image.
func Resolve(c *cache.Cache, ref string) (*Image, error) {
	if strings.ContainsRune(ref, os.PathSeparator) {
		return fromPath(ref)
	}
	images, err := List(c)
	if err != nil {
		return nil, fmt.Errorf("resolving image %q: %w", ref, err)
	}
	candidates := []string{ref}
	if d, ok := catalog[ref]; ok {
		candidates = append(candidates, d.imageName())
	}
	for _, name := range candidates {
		for i := range images { // newest first within a name
			if images[i].Name == name {
				return &images[i], nil
			}
		}
	}
	return nil, notFound(c, ref, images)
}

func notFound(c *cache.Cache, ref string, images []Image) error {
	var how string
	switch {
	case strings.HasPrefix(ref, "debian-") && strings.HasSuffix(ref, diskBootSuffix):
		how = `create it with "lab image build --boot disk"`
	case ref == BuiltName(DefaultSuite) || strings.HasPrefix(ref, "debian-") && !strings.HasSuffix(ref, "-cloud"):
		how = `create it with "lab image build"`
	case catalogByImageName(ref) != "":
		how = fmt.Sprintf(`create it with "lab image fetch --distro %s"`, catalogByImageName(ref))
	case catalog[ref] != nil:
		how = fmt.Sprintf(`create it with "lab image fetch --distro %s"`, ref)
	default:
		how = fmt.Sprintf(`known names: %s (from "lab image build"), %s (from "lab image fetch"); or give a path to a qcow2 file`,
			BuiltName(DefaultSuite), strings.Join(cloudNames(), ", "))
	}
	var have []string
	for _, img := range images {
		have = append(have, img.Name)
	}
	cached := "the cache is empty"
	if len(have) > 0 {
		cached = "cached: " + strings.Join(have, ", ")
	}
	return fmt.Errorf("image %q is not in the cache %s (%s): %s: %w", ref, c.Root, cached, how, fs.ErrNotExist)
}

// fromPath makes an Image of a file or cache entry directory.
func fromPath(path string) (*Image, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("resolving image %s: %w", path, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("resolving image %s: %w", path, err)
	}
	if info.IsDir() {
		e, err := cache.ReadEntry(abs)
		if err != nil {
			return nil, fmt.Errorf("resolving image %s: not an image file or cache entry: %w", path, err)
		}
		return fromEntry(e)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("resolving image %s: not a regular file", path)
	}
	return &Image{
		Name:    filepath.Base(abs),
		Source:  abs,
		Boot:    BootDisk,
		Disk:    abs,
		Size:    info.Size(),
		Created: info.ModTime(),
	}, nil
}

var errNotRoot = errors.New("image build needs root for debootstrap: run it with sudo (or as root)")

// OpenCache is the cache of base images and etcd binaries under root, or
// under cache.DefaultRoot when root is empty: the one commands pass to
// this package and to etcdbin.
func OpenCache(root string) *cache.Cache { return cache.New(root) }

// DefaultCacheDir is where the cache lives unless told otherwise:
// /var/cache/lab for root, $XDG_CACHE_HOME/lab for everyone else.
func DefaultCacheDir() string { return cache.DefaultRoot() }
