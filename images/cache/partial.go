package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// partialDir holds downloads in progress under tmp/. Unlike staging
// directories they outlive the process that started them, so that the next
// attempt can resume instead of starting over.
const partialDir = "partial"

// partialMaxAge is how long an untouched partial download is kept.
const partialMaxAge = 7 * 24 * time.Hour

// PartialPath returns a stable path, outside any entry, at which a download
// for the entry kind/key can be written and resumed across runs. The
// caller moves the finished file into a Staging directory. Partial files of
// a kind untouched for a week are removed by Stage.
func (c *Cache) PartialPath(kind, key, file string) (string, error) {
	if err := checkName("kind", kind); err != nil {
		return "", err
	}
	if err := checkName("key", key); err != nil {
		return "", err
	}
	if err := checkName("file name", file); err != nil {
		return "", err
	}
	dir := filepath.Join(c.Root, tmpDir, partialDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	return filepath.Join(dir, kind+"-"+key+"-"+file), nil
}

// removeOldPartials deletes partial downloads of kind untouched for
// partialMaxAge. Failures are ignored, as in removeStale.
func (c *Cache) removeOldPartials(kind string, now time.Time) {
	dir := filepath.Join(c.Root, tmpDir, partialDir)
	names, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, n := range names {
		if !n.Type().IsRegular() || !strings.HasPrefix(n.Name(), kind+"-") {
			continue
		}
		if info, err := n.Info(); err == nil && now.Sub(info.ModTime()) > partialMaxAge {
			os.Remove(filepath.Join(dir, n.Name()))
		}
	}
}
