package download

import (
	"context"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/kthw-lab/lab/progress"
)

// transfer moves the bytes of one download into its .part file, resuming
// from what the file already holds when the server allows it.
type transfer struct {
	client *http.Client
	url    string
	part   *os.File
	status *progress.Printer
	hash   hash.Hash

	// localFailure is set when the error was writing or reading the local
	// file rather than the network: the .part cannot be trusted or cannot
	// grow, so it is deleted rather than kept for resuming.
	localFailure bool
}

func (t *transfer) run(ctx context.Context) error {
	info, err := t.part.Stat()
	if err != nil {
		t.localFailure = true
		return fmt.Errorf("reading %s: %w", t.part.Name(), err)
	}
	offset := info.Size()
	resp, err := t.request(ctx, offset)
	if err != nil {
		return err
	}
	defer resp.Body.Close()

	switch {
	case offset > 0 && resp.StatusCode == http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != offset {
			return fmt.Errorf("server answered a resume from byte %d with Content-Range %q",
				offset, resp.Header.Get("Content-Range"))
		}
		if err := t.hashPrefix(offset); err != nil {
			return err
		}
		t.status.Printf("resuming %s at %s", t.url, progress.Bytes(offset))
	case offset > 0 && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The .part may already hold the whole file: if it verifies, Get
		// is done; if not, the caller deletes it on the mismatch.
		return t.hashPrefix(offset)
	case resp.StatusCode == http.StatusOK:
		if offset > 0 {
			t.status.Printf("server does not resume %s; starting over", t.url)
		}
		if offset > 0 {
			if err := t.restart(); err != nil {
				return err
			}
			offset = 0
		}
	default:
		return &StatusError{URL: t.url, Status: resp.Status, Code: resp.StatusCode}
	}
	return t.copy(resp, offset)
}

func (t *transfer) request(ctx context.Context, offset int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return nil, err
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	return t.client.Do(req)
}

// restart empties the .part file for a transfer from the first byte.
func (t *transfer) restart() error {
	if err := t.part.Truncate(0); err != nil {
		t.localFailure = true
		return fmt.Errorf("truncating %s: %w", t.part.Name(), err)
	}
	if _, err := t.part.Seek(0, io.SeekStart); err != nil {
		t.localFailure = true
		return fmt.Errorf("rewinding %s: %w", t.part.Name(), err)
	}
	t.hash.Reset()
	return nil
}

// hashPrefix feeds the bytes already downloaded into the hash and leaves
// the file positioned after them.
func (t *transfer) hashPrefix(offset int64) error {
	if _, err := t.part.Seek(0, io.SeekStart); err != nil {
		t.localFailure = true
		return fmt.Errorf("reading %s: %w", t.part.Name(), err)
	}
	if _, err := io.CopyN(t.hash, t.part, offset); err != nil {
		t.localFailure = true
		return fmt.Errorf("reading %s: %w", t.part.Name(), err)
	}
	return nil
}

// copy streams the response body into the file and the hash.
func (t *transfer) copy(resp *http.Response, offset int64) error {
	counter := t.status.Counter(fileName(t.url), resp.ContentLength)
	defer counter.Close()
	dst := &localWriter{w: io.MultiWriter(t.part, t.hash, counter)}
	n, err := io.Copy(dst, resp.Body)
	switch {
	case dst.err != nil:
		t.localFailure = true
		return fmt.Errorf("%w (download deleted)", dst.err) // a *PathError: it names the file
	case err != nil:
		return fmt.Errorf("transfer interrupted after %s%s: %w (kept %s to resume)",
			progress.Bytes(offset+n), ofTotal(offset, resp.ContentLength), err, t.part.Name())
	case resp.ContentLength >= 0 && n < resp.ContentLength:
		// The HTTP client reports a short body itself; this is the
		// belt to its braces.
		return fmt.Errorf("transfer truncated after %s%s (kept %s to resume)",
			progress.Bytes(offset+n), ofTotal(offset, resp.ContentLength), t.part.Name())
	}
	return nil
}

func ofTotal(offset, contentLength int64) string {
	if contentLength < 0 {
		return ""
	}
	return " of " + progress.Bytes(offset+contentLength)
}

// localWriter remembers write errors so copy can tell a failing disk from a
// failing network.
type localWriter struct {
	w   io.Writer
	err error
}

func (l *localWriter) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if err != nil {
		l.err = err
	}
	return n, err
}

// contentRangeStart parses the first byte position of "bytes START-END/SIZE".
func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// fileName is the last path element of a URL, for progress lines.
func fileName(url string) string {
	url, _, _ = strings.Cut(url, "?")
	if i := strings.LastIndex(url, "/"); i >= 0 && i < len(url)-1 {
		return url[i+1:]
	}
	return url
}
