package download

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxChecksumFile bounds how much of a checksum file is read: real ones are
// a few kilobytes, and a server answering with something else should not
// fill memory.
const maxChecksumFile = 4 << 20

// FetchChecksums downloads a checksum file (SHA256SUMS, SHA512SUMS) and
// returns its digests by file name. client may be nil for
// http.DefaultClient.
func FetchChecksums(ctx context.Context, client *http.Client, url string) (map[string]string, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching checksums %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching checksums %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching checksums %s: %w", url, &StatusError{URL: url, Status: resp.Status, Code: resp.StatusCode})
	}
	sums, err := ParseChecksums(io.LimitReader(resp.Body, maxChecksumFile))
	if err != nil {
		return nil, fmt.Errorf("fetching checksums %s: %w", url, err)
	}
	return sums, nil
}

// ParseChecksums reads the output format of sha256sum and sha512sum:
// one "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode) per
// line. Blank lines and lines starting with '#' are ignored; any other line
// that does not parse is an error, which also catches an HTML error page
// served in place of the file.
func ParseChecksums(r io.Reader) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		digest, name, ok := parseChecksumLine(text)
		if !ok {
			return nil, fmt.Errorf("line %d is not \"<hex digest>  <file name>\": %q", line, truncate(text, 80))
		}
		sums[name] = digest
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading checksum file: %w", err)
	}
	if len(sums) == 0 {
		return nil, fmt.Errorf("checksum file lists no files")
	}
	return sums, nil
}

func parseChecksumLine(line string) (digest, name string, ok bool) {
	digest, rest, ok := strings.Cut(line, " ")
	if !ok || !isHex(digest) {
		return "", "", false
	}
	if _, err := AlgorithmOf(digest); err != nil {
		return "", "", false
	}
	switch {
	case strings.HasPrefix(rest, " "), strings.HasPrefix(rest, "*"):
		name = rest[1:]
	default:
		return "", "", false
	}
	if name == "" {
		return "", "", false
	}
	return strings.ToLower(digest), name, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
