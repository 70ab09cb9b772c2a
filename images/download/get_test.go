package download

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kthw-lab/lab/progress"
)

// payload is big enough to cross several write calls.
var payload = bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func sha512Hex(b []byte) string { s := sha512.Sum512(b); return hex.EncodeToString(s[:]) }

// server serves payload at /file in one of several behaviours and records
// the Range headers it was sent and how many body bytes it wrote.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	ranges   []string
	sent     int
	mode     string // "ranges" (default), "ignore-range", "truncate", "404"
	truncate int
}

func newServer(t *testing.T, mode string) *server {
	s := &server{mode: mode, truncate: len(payload) / 3}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	mode := s.mode
	s.mu.Unlock()
	if r.URL.Path != "/file" || mode == "404" {
		http.NotFound(w, r)
		return
	}
	cw := &countingWriter{ResponseWriter: w, s: s}
	switch mode {
	case "ignore-range":
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		cw.Write(payload)
	case "truncate":
		// Promise the whole file, send a third, hang up.
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		cw.Write(payload[:s.truncate])
	default:
		http.ServeContent(cw, r, "file", time.Time{}, bytes.NewReader(payload))
	}
}

type countingWriter struct {
	http.ResponseWriter
	s *server
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.s.mu.Lock()
	c.s.sent += n
	c.s.mu.Unlock()
	return n, err
}

func (s *server) setMode(m string) { s.mu.Lock(); s.mode = m; s.mu.Unlock() }

func (s *server) stats() (ranges []string, sent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...), s.sent
}

func assertFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, want %d bytes of payload", path, len(got), len(want))
	}
}

func assertAbsent(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s exists (err %v), want it absent", path, err)
	}
}

func TestGetGood(t *testing.T) {
	for _, tc := range []struct {
		name   string
		digest string
		algo   Algorithm
	}{
		{"sha256", sha256Hex(payload), SHA256},
		{"sha512", sha512Hex(payload), SHA512},
		{"guessed sha512", sha512Hex(payload), ""},
		{"upper case", strings.ToUpper(sha256Hex(payload)), SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, "ranges")
			dest := filepath.Join(t.TempDir(), "disk.qcow2")
			var out bytes.Buffer
			err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: tc.digest,
				Algorithm: tc.algo, Progress: progress.New(&out, false)})
			if err != nil {
				t.Fatal(err)
			}
			assertFile(t, dest, payload)
			assertAbsent(t, PartPath(dest))
			if !strings.Contains(out.String(), "file: 100%") {
				t.Fatalf("progress output lacks the final line:\n%s", out.String())
			}
		})
	}
}

func TestGetBadDigest(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	wrong := sha256Hex([]byte("something else"))
	err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: wrong})
	var mismatch *MismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("err = %v, want a MismatchError", err)
	}
	for _, want := range []string{wrong, sha256Hex(payload), srv.URL + "/file", "deleted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	assertAbsent(t, dest)
	assertAbsent(t, PartPath(dest))
}

func TestGetNotFound(t *testing.T) {
	srv := newServer(t, "404")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)})
	var status *StatusError
	if !errors.As(err, &status) || status.Code != http.StatusNotFound {
		t.Fatalf("err = %v, want a 404 StatusError", err)
	}
	if !strings.Contains(err.Error(), "404 Not Found") || !strings.Contains(err.Error(), srv.URL+"/file") {
		t.Fatalf("error %q does not name the status and URL", err)
	}
	assertAbsent(t, dest)
	assertAbsent(t, PartPath(dest))
}

func TestGetTruncatedKeepsPartThenResumes(t *testing.T) {
	srv := newServer(t, "truncate")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	req := Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)}
	err := Get(t.Context(), req)
	if err == nil || !strings.Contains(err.Error(), "kept "+PartPath(dest)+" to resume") {
		t.Fatalf("err = %v, want a truncation error keeping the .part", err)
	}
	assertAbsent(t, dest)
	assertFile(t, PartPath(dest), payload[:srv.truncate])

	srv.setMode("ranges")
	var out bytes.Buffer
	req.Progress = progress.New(&out, false)
	if err := Get(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, payload)
	assertAbsent(t, PartPath(dest))
	ranges, _ := srv.stats()
	if want := "bytes=" + strconv.Itoa(srv.truncate) + "-"; ranges[len(ranges)-1] != want {
		t.Fatalf("resume sent Range %q, want %q", ranges[len(ranges)-1], want)
	}
	if !strings.Contains(out.String(), "resuming") {
		t.Fatalf("no resume line in progress output:\n%s", out.String())
	}
}

func TestGetResumesWith206(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	const have = 300_000
	if err := os.WriteFile(PartPath(dest), payload[:have], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, payload)
	ranges, sent := srv.stats()
	if len(ranges) != 1 || ranges[0] != "bytes=300000-" {
		t.Fatalf("requests sent Range %q, want one bytes=300000-", ranges)
	}
	if sent != len(payload)-have {
		t.Fatalf("server sent %d bytes, want only the missing %d", sent, len(payload)-have)
	}
}

func TestGetRestartsWhenServerIgnoresRange(t *testing.T) {
	srv := newServer(t, "ignore-range")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	// A prefix that is not the file's: if it were kept, the digest would fail.
	if err := os.WriteFile(PartPath(dest), bytes.Repeat([]byte{'x'}, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, payload)
	assertAbsent(t, PartPath(dest))
	if ranges, _ := srv.stats(); ranges[0] != "bytes=1000-" {
		t.Fatalf("first request Range = %q", ranges[0])
	}
}

func TestGetCompletePartAnswered416(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := os.WriteFile(PartPath(dest), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, payload)
}

func TestGetCorruptPrefixResumedIsDeleted(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := os.WriteFile(PartPath(dest), bytes.Repeat([]byte{'x'}, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)})
	var mismatch *MismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("err = %v, want a MismatchError", err)
	}
	assertAbsent(t, PartPath(dest))
	// The next attempt starts from scratch and succeeds.
	if err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)}); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, payload)
}

// TestGetDiskFull points the .part file at /dev/full, whose writes fail
// with ENOSPC exactly as a full filesystem's do. (A read-only directory
// would not do: the tests run as root, which ignores permissions.)
func TestGetDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs /dev/full: %v", err)
	}
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := os.Symlink("/dev/full", PartPath(dest)); err != nil {
		t.Fatal(err)
	}
	err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v, want ENOSPC", err)
	}
	if !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "deleted") {
		t.Fatalf("error %q does not say the disk is full and the download is gone", err)
	}
	assertAbsent(t, PartPath(dest))
	assertAbsent(t, dest)
}

func TestGetMissingDirectory(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "no", "such", "dir", "disk.qcow2")
	err := Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want not-exist", err)
	}
	if ranges, _ := srv.stats(); len(ranges) != 0 {
		t.Fatal("a request was sent although the file could not be written")
	}
}

func TestGetRefusesConcurrentDownloadOfOneFile(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	held, err := openPart(PartPath(dest))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	err = Get(t.Context(), Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)})
	if err == nil || !strings.Contains(err.Error(), "another download in progress") {
		t.Fatalf("err = %v, want a refusal", err)
	}
}

func TestGetBadRequest(t *testing.T) {
	dest := filepath.Join(t.TempDir(), "f")
	for _, tc := range []struct{ digest, algo, want string }{
		{"abc", "", "neither sha256"},
		{sha256Hex(payload), "md5", "unknown digest algorithm"},
		{sha256Hex(payload), "sha512", "not 128 hex digits"},
		{strings.Repeat("zz", 32), "", "not 64 hex digits"},
	} {
		err := Get(t.Context(), Request{URL: "http://127.0.0.1:1/file", Dest: dest, Digest: tc.digest, Algorithm: Algorithm(tc.algo)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("digest %q algo %q: err = %v, want %q", tc.digest, tc.algo, err, tc.want)
		}
	}
	assertAbsent(t, PartPath(dest))
}

func TestGetCancelledKeepsPart(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		w.Write(payload[:1000])
		w.(http.Flusher).Flush()
		<-block
	}))
	defer srv.Close()
	defer close(block)
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	ctx, cancel := contextWithCancelAfterFirstWrite(t, PartPath(dest))
	defer cancel()
	err := Get(ctx, Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)})
	if err == nil || !strings.Contains(err.Error(), "to resume") {
		t.Fatalf("err = %v, want an interrupted transfer keeping the .part", err)
	}
	assertFile(t, PartPath(dest), payload[:1000])
}

func TestGetKeepsAVerifiedDestAndReplacesAWrongOne(t *testing.T) {
	srv := newServer(t, "ranges")
	dest := filepath.Join(t.TempDir(), "disk.qcow2")
	if err := os.WriteFile(dest, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	req := Request{URL: srv.URL + "/file", Dest: dest, Digest: sha256Hex(payload)}
	if err := Get(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if ranges, _ := srv.stats(); len(ranges) != 0 {
		t.Fatalf("downloaded again although %s was already verified", dest)
	}
	if err := os.WriteFile(dest, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Get(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	assertFile(t, dest, payload)
}
