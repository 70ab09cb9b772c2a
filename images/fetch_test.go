package images

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/images/download"
	"github.com/kthw-lab/lab/progress"
)

var cloudDisk = bytes.Repeat([]byte("QFI\xfb cloud image "), 40000)

// mirror serves a distro's directory: its checksum file and its image.
type mirror struct {
	*httptest.Server
	mu       sync.Mutex
	sums     string // the checksum file's content
	image    []byte
	requests []string // "GET path Range"
	down     bool
}

func newMirror(t *testing.T, distro string) *mirror {
	img := catalog[distro]
	m := &mirror{image: cloudDisk}
	var digest string
	if img.Algorithm == download.SHA512 {
		s := sha512.Sum512(cloudDisk)
		digest = hex.EncodeToString(s[:])
	} else {
		s := sha256.Sum256(cloudDisk)
		digest = hex.EncodeToString(s[:])
	}
	m.sums = fmt.Sprintf("%s  other.qcow2\n%s *%s\n", strings.Repeat("0", len(digest)), digest, img.File)
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests = append(m.requests, strings.TrimSpace(r.URL.Path+" "+r.Header.Get("Range")))
		sums, image, down := m.sums, m.image, m.down
		m.mu.Unlock()
		switch {
		case down:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case r.URL.Path == "/dist/"+img.Checksums:
			w.Write([]byte(sums))
		case r.URL.Path == "/dist/"+img.File && image != nil:
			http.ServeContent(w, r, img.File, time.Time{}, bytes.NewReader(image))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(m.Close)
	return m
}

// set changes what the mirror serves.
func (m *mirror) set(change func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change()
}

func (m *mirror) log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.requests...)
}

func (m *mirror) opts(c *cache.Cache, distro string) FetchOptions {
	return FetchOptions{Cache: c, Distro: distro, BaseURL: m.URL + "/dist"}
}

func TestFetch(t *testing.T) {
	for _, distro := range Distros() {
		t.Run(distro, func(t *testing.T) {
			m := newMirror(t, distro)
			c := &cache.Cache{Root: t.TempDir()}
			var out bytes.Buffer
			opts := m.opts(c, distro)
			opts.Progress = progress.New(&out, false)
			img, err := Fetch(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			file := catalog[distro].File
			if img.Name != distro+"-cloud" || img.Boot != BootDisk || img.Kernel != "" || img.Source != m.URL+"/dist/"+file {
				t.Errorf("image = %+v", img)
			}
			algo := string(catalog[distro].Algorithm)
			if !strings.HasPrefix(img.Digest, algo+":") || !strings.HasPrefix(img.Key, distro+"-cloud-"+img.Digest[len(algo)+1:][:16]) {
				t.Errorf("digest %q / key %q", img.Digest, img.Key)
			}
			if data, _ := os.ReadFile(img.Disk); !bytes.Equal(data, cloudDisk) {
				t.Errorf("cached disk is not the served image")
			}
			if img.Metadata["checksums_url"] != m.URL+"/dist/"+catalog[distro].Checksums || img.Metadata["distro"] != distro {
				t.Errorf("metadata = %v", img.Metadata)
			}
			if !strings.Contains(out.String(), "100%") {
				t.Errorf("no progress lines:\n%s", out.String())
			}
			partial, _ := os.ReadDir(filepath.Join(c.Root, "tmp", "partial"))
			if len(partial) != 0 {
				t.Errorf("partial downloads left: %v", partial)
			}

			// Again: only the checksum file is fetched.
			before := len(m.log())
			again, err := Fetch(t.Context(), m.opts(c, distro))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.log()[before:]; len(got) != 1 || !strings.HasSuffix(got[0], catalog[distro].Checksums) {
				t.Errorf("second fetch requested %v, want only the checksum file", got)
			}
			if again.Key != img.Key {
				t.Errorf("second fetch = %s, want %s", again.Key, img.Key)
			}
			if resolved, err := Resolve(c, distro); err != nil || resolved.Key != img.Key {
				t.Errorf("Resolve(%q) = %v, %v", distro, resolved, err)
			}
		})
	}
}

func TestFetchBadDigestLeavesNothing(t *testing.T) {
	m := newMirror(t, "debian-12")
	m.set(func() { m.image = append(bytes.Clone(cloudDisk[:len(cloudDisk)-1]), 'X') })
	c := &cache.Cache{Root: t.TempDir()}
	_, err := Fetch(t.Context(), m.opts(c, "debian-12"))
	var mismatch *download.MismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
	if !strings.Contains(err.Error(), mismatch.Want) || !strings.Contains(err.Error(), mismatch.Got) {
		t.Errorf("error %q lacks the digests", err)
	}
	assertEmptyCache(t, c)
}

func assertEmptyCache(t *testing.T, c *cache.Cache) {
	t.Helper()
	if images, _ := List(c); len(images) != 0 {
		t.Errorf("cache holds %v", images)
	}
	filepath.WalkDir(c.Root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file left in the cache: %s", path)
		}
		return nil
	})
}

func TestFetchErrors(t *testing.T) {
	t.Run("unknown distro", func(t *testing.T) {
		_, err := Fetch(t.Context(), FetchOptions{Cache: &cache.Cache{Root: t.TempDir()}, Distro: "fedora-40"})
		if err == nil || !strings.Contains(err.Error(), `unknown distro "fedora-40" (known: debian-12, ubuntu-24.04)`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("image not found", func(t *testing.T) {
		m := newMirror(t, "ubuntu-24.04")
		m.set(func() { m.image = nil })
		c := &cache.Cache{Root: t.TempDir()}
		opts := m.opts(c, "ubuntu-24.04")
		opts.BaseURL = m.URL + "/dist/"
		_, err := Fetch(t.Context(), opts)
		if err == nil || !strings.Contains(err.Error(), "404 Not Found") || !strings.Contains(err.Error(), m.URL+"/dist/noble-server-cloudimg-amd64.img") {
			t.Fatalf("err = %v", err)
		}
		assertEmptyCache(t, c)
	})
	t.Run("file not in checksum list", func(t *testing.T) {
		m := newMirror(t, "debian-12")
		m.set(func() { m.sums = strings.Repeat("0", 128) + "  other.qcow2\n" })
		_, err := Fetch(t.Context(), m.opts(&cache.Cache{Root: t.TempDir()}, "debian-12"))
		if err == nil || !strings.Contains(err.Error(), "does not list debian-12-genericcloud-amd64.qcow2") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("checksums unreachable, nothing cached", func(t *testing.T) {
		m := newMirror(t, "debian-12")
		m.set(func() { m.down = true })
		_, err := Fetch(t.Context(), m.opts(&cache.Cache{Root: t.TempDir()}, "debian-12"))
		if err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFetchOfflineUsesCached(t *testing.T) {
	m := newMirror(t, "debian-12")
	c := &cache.Cache{Root: t.TempDir()}
	first, err := Fetch(t.Context(), m.opts(c, "debian-12"))
	if err != nil {
		t.Fatal(err)
	}
	m.set(func() { m.down = true })
	var out bytes.Buffer
	opts := m.opts(c, "debian-12")
	opts.Progress = progress.New(&out, false)
	img, err := Fetch(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if img.Key != first.Key || !strings.Contains(out.String(), "using the cached one") {
		t.Fatalf("offline fetch = %+v, output %q", img, out.String())
	}
}

func TestFetchResumesAnInterruptedDownload(t *testing.T) {
	m := newMirror(t, "debian-12")
	c := &cache.Cache{Root: t.TempDir()}
	sums, _ := download.ParseChecksums(strings.NewReader(m.sums))
	key := "debian-12-cloud-" + sums["debian-12-genericcloud-amd64.qcow2"][:16]
	dest, err := c.PartialPath(Kind, key, DiskFile)
	if err != nil {
		t.Fatal(err)
	}
	const have = 100_000
	if err := os.WriteFile(download.PartPath(dest), cloudDisk[:have], 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := Fetch(t.Context(), m.opts(c, "debian-12"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Key != key {
		t.Errorf("key = %s, want %s", img.Key, key)
	}
	log := m.log()
	if last := log[len(log)-1]; last != "/dist/debian-12-genericcloud-amd64.qcow2 bytes=100000-" {
		t.Errorf("image request = %q, want a resume from byte 100000", last)
	}
	if data, _ := os.ReadFile(img.Disk); !bytes.Equal(data, cloudDisk) {
		t.Error("resumed image differs from the served one")
	}
}
