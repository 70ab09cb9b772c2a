package etcdbin

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kthw-lab/lab/images/cache"
)

// releaseServer serves etcd release assets the way GitHub lays them out.
type releaseServer struct {
	*httptest.Server
	// files maps a URL path to its content; missing paths answer 404.
	files map[string][]byte
	// truncate, when set for a path, sends only that many bytes of it
	// after announcing the full length, then drops the connection.
	truncate map[string]int
	requests atomic.Int64
}

func newReleaseServer(t *testing.T) *releaseServer {
	s := &releaseServer{files: map[string][]byte{}, truncate: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		data, ok := s.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if n, ok := s.truncate[r.URL.Path]; ok {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.WriteHeader(http.StatusOK)
			w.Write(data[:n])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish serves tarball as the release v (without "v") with a SHA256SUMS
// listing digest, or the tarball's real digest when digest is empty.
func (s *releaseServer) publish(v string, tarball []byte, digest string) {
	name := "etcd-v" + v + "-linux-amd64.tar.gz"
	if digest == "" {
		sum := sha256.Sum256(tarball)
		digest = hex.EncodeToString(sum[:])
	}
	s.files["/v"+v+"/"+name] = tarball
	s.files["/v"+v+"/SHA256SUMS"] = []byte(strings.Repeat("0", 64) + "  etcd-v" + v + "-darwin-amd64.zip\n" + digest + "  " + name + "\n")
}

func (s *releaseServer) tarballURL(v string) string {
	return s.URL + "/v" + v + "/etcd-v" + v + "-linux-amd64.tar.gz"
}

func fetchOpts(c *cache.Cache, s *releaseServer, v string) FetchOptions {
	return FetchOptions{Cache: c, Version: v, BaseURL: s.URL, Client: s.Client()}
}

func TestFetchVerifiesExtractsAndCaches(t *testing.T) {
	s := newReleaseServer(t)
	tarball := makeTarGz(t, releaseEntries("3.4.7")...)
	s.publish("3.4.7", tarball, "")
	c := &cache.Cache{Root: t.TempDir()}

	b, err := Fetch(t.Context(), fetchOpts(c, s, "v3.4.7"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Version != "v3.4.7" || b.Source != s.tarballURL("3.4.7") {
		t.Errorf("got version %q source %q", b.Version, b.Source)
	}
	for name, path := range map[string]string{EtcdFile: b.Etcd, EtcdctlFile: b.Etcdctl} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != fakeScript(name, "3.4.7") {
			t.Errorf("%s content = %q", name, data)
		}
		sum := sha256.Sum256(data)
		if b.SHA256[name] != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256[%s] = %s, want %x", name, b.SHA256[name], sum)
		}
	}
	want := []string{
		"etcd/v3.4.7-release-linux-amd64/etcd",
		"etcd/v3.4.7-release-linux-amd64/etcdctl",
		"etcd/v3.4.7-release-linux-amd64/manifest.json",
	}
	if got := cacheFiles(t, c.Root); !equalStrings(got, want) {
		t.Errorf("cache holds %v, want only %v (no tarball, no staging leftovers)", got, want)
	}
	e, err := c.Lookup(Kind, "v3.4.7-release-linux-amd64")
	if err != nil {
		t.Fatal(err)
	}
	tarSum := sha256.Sum256(tarball)
	if e.Manifest.Metadata[metaTarball] != hex.EncodeToString(tarSum[:]) {
		t.Errorf("manifest tarball digest = %q", e.Manifest.Metadata[metaTarball])
	}

	// Warm: served from the cache without a request.
	before := s.requests.Load()
	again, err := Fetch(t.Context(), fetchOpts(c, s, "3.4.7"))
	if err != nil {
		t.Fatal(err)
	}
	if s.requests.Load() != before || again.Etcd != b.Etcd {
		t.Errorf("second fetch made %d requests and returned %s, want 0 and the cached %s", s.requests.Load()-before, again.Etcd, b.Etcd)
	}

	// Force downloads again and replaces the entry.
	s.publish("3.4.7", makeTarGz(t, append(releaseEntries("3.4.7"), entry{name: "extra", body: "changes the digest"})...), "")
	opts := fetchOpts(c, s, "v3.4.7")
	opts.Force = true
	if _, err := Fetch(t.Context(), opts); err != nil {
		t.Fatal(err)
	}
	if s.requests.Load() != before+2 {
		t.Errorf("forced fetch made %d requests, want 2", s.requests.Load()-before)
	}
	e, err = c.Lookup(Kind, "v3.4.7-release-linux-amd64")
	if err != nil {
		t.Fatal(err)
	}
	if e.Manifest.Metadata[metaTarball] == hex.EncodeToString(tarSum[:]) {
		t.Error("forced fetch kept the old entry")
	}
}

func TestFetchFailuresLeaveNothingInCache(t *testing.T) {
	goodTarball := func(t *testing.T) []byte { return makeTarGz(t, releaseEntries("3.4.7")...) }
	hostile := func(extra entry) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return makeTarGz(t, append([]entry{extra}, releaseEntries("3.4.7")...)...)
		}
	}
	tests := []struct {
		name    string
		version string
		setup   func(t *testing.T, s *releaseServer)
		want    []string
		is      error
	}{
		{
			name: "bad digest",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", goodTarball(t), strings.Repeat("ab", 32))
			},
			want: []string{"checksum mismatch", "expected " + strings.Repeat("ab", 32), "got "},
		},
		{
			name: "tarball 404",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", goodTarball(t), "")
				delete(s.files, "/v3.4.7/etcd-v3.4.7-linux-amd64.tar.gz")
			},
			want: []string{"etcd release v3.4.7 not found at http://", "etcd-v3.4.7-linux-amd64.tar.gz", "known versions: v3.4.7, v3.4.23"},
		},
		{
			name:    "unknown release",
			version: "v3.9.99",
			setup:   func(t *testing.T, s *releaseServer) {},
			want:    []string{"etcd release v3.9.99 not found at http://", "/v3.9.99/SHA256SUMS", "known versions: v3.4.7"},
		},
		{
			name: "tarball missing from SHA256SUMS",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", goodTarball(t), "")
				s.files["/v3.4.7/SHA256SUMS"] = []byte(strings.Repeat("0", 64) + "  something-else.tar.gz\n")
			},
			want: []string{"SHA256SUMS lists no etcd-v3.4.7-linux-amd64.tar.gz"},
		},
		{
			name: "truncated download",
			setup: func(t *testing.T, s *releaseServer) {
				tb := goodTarball(t)
				s.publish("3.4.7", tb, "")
				s.truncate["/v3.4.7/etcd-v3.4.7-linux-amd64.tar.gz"] = len(tb) / 2
			},
			want: []string{"downloading http://", "unexpected EOF"},
		},
		{
			name: "hostile archive with ../ entry",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", hostile(entry{name: "etcd-v3.4.7-linux-amd64/../../evil", body: "x"})(t), "")
			},
			want: []string{"unsafe archive entry", "../../evil"},
			is:   errUnsafeEntry,
		},
		{
			name: "hostile archive with absolute path",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", hostile(entry{name: "/etc/cron.d/evil", body: "x"})(t), "")
			},
			want: []string{"unsafe archive entry", "absolute path"},
			is:   errUnsafeEntry,
		},
		{
			name: "hostile archive with escaping symlink",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", hostile(entry{name: "etcd-v3.4.7-linux-amd64/lib", typ: tar.TypeSymlink, linkname: "../../../usr/lib"})(t), "")
			},
			want: []string{"unsafe archive entry", "points outside"},
			is:   errUnsafeEntry,
		},
		{
			name: "binaries of another version",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", makeTarGz(t,
					entry{name: "etcd-v3.4.7-linux-amd64/etcd", body: fakeScript(EtcdFile, "3.4.8")},
					entry{name: "etcd-v3.4.7-linux-amd64/etcdctl", body: fakeScript(EtcdctlFile, "3.4.7")}), "")
			},
			want: []string{"reports version v3.4.8, want v3.4.7"},
		},
		{
			name: "not a gzip file",
			setup: func(t *testing.T, s *releaseServer) {
				s.publish("3.4.7", []byte("<html>rate limited</html>"), "")
			},
			want: []string{"reading gzip"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newReleaseServer(t)
			tt.setup(t, s)
			c := &cache.Cache{Root: t.TempDir()}
			v := tt.version
			if v == "" {
				v = "v3.4.7"
			}
			b, err := Fetch(t.Context(), fetchOpts(c, s, v))
			if err == nil {
				t.Fatalf("Fetch succeeded with %+v", b)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if files := cacheFiles(t, c.Root); len(files) != 0 {
				t.Errorf("cache holds %v after a failed fetch, want nothing", files)
			}
		})
	}
}

func TestFetchRejectsInvalidVersionWithoutRequests(t *testing.T) {
	s := newReleaseServer(t)
	_, err := Fetch(t.Context(), fetchOpts(&cache.Cache{Root: t.TempDir()}, s, "v3.4"))
	if err == nil || !strings.Contains(err.Error(), "v3.4.7, v3.4.23") {
		t.Fatalf("err = %v, want the known versions listed", err)
	}
	if s.requests.Load() != 0 {
		t.Errorf("made %d requests for an invalid version", s.requests.Load())
	}
}

func TestNewReleaseDefaultURLs(t *testing.T) {
	r := newRelease("", version{3, 4, 7})
	if want := "https://github.com/etcd-io/etcd/releases/download/v3.4.7/etcd-v3.4.7-linux-amd64.tar.gz"; r.tarballURL != want {
		t.Errorf("tarball URL = %s, want %s", r.tarballURL, want)
	}
	if want := "https://github.com/etcd-io/etcd/releases/download/v3.4.7/SHA256SUMS"; r.sumsURL != want {
		t.Errorf("SHA256SUMS URL = %s, want %s", r.sumsURL, want)
	}
	if r := newRelease("http://mirror/etcd/", version{3, 6, 16}); r.sumsURL != "http://mirror/etcd/v3.6.16/SHA256SUMS" {
		t.Errorf("mirror SHA256SUMS URL = %s", r.sumsURL)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}
