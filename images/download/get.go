package download

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"

	"github.com/kthw-lab/lab/progress"
)

// Algorithm names a digest algorithm.
type Algorithm string

// The digest algorithms that distributions publish checksum files for.
const (
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
)

func (a Algorithm) new() (hash.Hash, int, error) {
	switch a {
	case SHA256:
		return sha256.New(), sha256.Size * 2, nil
	case SHA512:
		return sha512.New(), sha512.Size * 2, nil
	}
	return nil, 0, fmt.Errorf("unknown digest algorithm %q (known: %s, %s)", a, SHA256, SHA512)
}

// AlgorithmOf guesses the algorithm of a hex digest from its length.
func AlgorithmOf(digest string) (Algorithm, error) {
	switch len(digest) {
	case sha256.Size * 2:
		return SHA256, nil
	case sha512.Size * 2:
		return SHA512, nil
	}
	return "", fmt.Errorf("digest %q is neither sha256 (64 hex digits) nor sha512 (128)", digest)
}

// Request is one file to download.
type Request struct {
	// URL is the http or https address of the file.
	URL string
	// Dest is where the verified file ends up. Its directory must exist.
	Dest string
	// Digest is the expected hex digest of the whole file.
	Digest string
	// Algorithm is the digest's algorithm; empty means guess it from the
	// digest's length.
	Algorithm Algorithm
	// Progress receives progress; nil discards it.
	Progress *progress.Printer
	// Client makes the requests; nil means http.DefaultClient.
	Client *http.Client
}

// PartPath is where Get keeps the unverified download for dest.
func PartPath(dest string) string { return dest + ".part" }

// Get downloads req.URL to req.Dest and verifies its digest. See the package
// documentation for what happens to the .part file on each kind of failure.
func Get(ctx context.Context, req Request) error {
	if err := get(ctx, req); err != nil {
		return fmt.Errorf("downloading %s: %w", req.URL, err)
	}
	return nil
}

func get(ctx context.Context, req Request) error {
	algo := req.Algorithm
	if algo == "" {
		var err error
		if algo, err = AlgorithmOf(req.Digest); err != nil {
			return err
		}
	}
	want := strings.ToLower(req.Digest)
	h, size, err := algo.new()
	if err != nil {
		return err
	}
	if len(want) != size || !isHex(want) {
		return fmt.Errorf("expected %s digest %q is not %d hex digits", algo, req.Digest, size)
	}
	client := req.Client
	if client == nil {
		client = http.DefaultClient
	}
	if done, err := alreadyThere(req.Dest, h, want); done || err != nil {
		return err
	}
	h.Reset()

	part, err := openPart(PartPath(req.Dest))
	if err != nil {
		return err
	}
	defer part.Close()

	t := &transfer{client: client, url: req.URL, part: part, status: req.Progress, hash: h}
	if err := t.run(ctx); err != nil {
		if t.localFailure || isEmpty(part) {
			os.Remove(part.Name())
		}
		return err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		os.Remove(part.Name())
		return &MismatchError{Algorithm: algo, Want: want, Got: got}
	}
	if err := part.Sync(); err != nil {
		os.Remove(part.Name())
		return fmt.Errorf("writing %s: %w", part.Name(), err)
	}
	if err := os.Rename(part.Name(), req.Dest); err != nil {
		return fmt.Errorf("moving the verified download into place: %w", err)
	}
	return nil
}

// alreadyThere tells whether dest already holds the expected file, as it
// does when an earlier Get finished but its caller was interrupted before
// using the file. A dest with other content is deleted.
func alreadyThere(dest string, h hash.Hash, want string) (bool, error) {
	f, err := os.Open(dest)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking existing %s: %w", dest, err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("checking existing %s: %w", dest, err)
	}
	if hex.EncodeToString(h.Sum(nil)) == want {
		return true, nil
	}
	if err := os.Remove(dest); err != nil {
		return false, fmt.Errorf("removing stale %s: %w", dest, err)
	}
	return false, nil
}

// MismatchError is returned when the downloaded bytes do not have the
// expected digest. The download has been deleted.
type MismatchError struct {
	Algorithm Algorithm
	Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s checksum mismatch: expected %s, got %s (download deleted)", e.Algorithm, e.Want, e.Got)
}

// StatusError is returned when the server answers with a status other than
// the one a download needs.
type StatusError struct {
	URL    string
	Status string // such as "404 Not Found"
	Code   int
}

func (e *StatusError) Error() string {
	return "server answered " + e.Status
}

// openPart opens (creating) the .part file and locks it, so two processes
// never append to one download.
func openPart(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is being written by another download in progress", path)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

func isEmpty(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Size() == 0
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
