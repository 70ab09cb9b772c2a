package etcdbin

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

const (
	// maxFileSize caps one extracted binary; etcd is about 27 MB.
	maxFileSize = 256 << 20
	// maxArchiveSize caps the uncompressed archive, so a decompression
	// bomb is stopped even in entries that are skipped.
	maxArchiveSize = 1 << 30
)

// errUnsafeEntry marks an archive entry that would escape the target
// directory.
var errUnsafeEntry = errors.New("unsafe archive entry")

// extractFiles reads the tar stream r and writes the regular files named in
// want (archive path → file name in dir) into dir with mode 0755. Every
// entry is checked first: an absolute path, a ".." element, a symlink
// pointing outside the archive or any hard link fails the whole extraction,
// because an archive that tries one of these is not to be trusted at all.
// Entries not in want are skipped, and nothing but regular files is ever
// written. All wanted files must be present.
func extractFiles(r io.Reader, dir string, want map[string]string) error {
	limited := &io.LimitedReader{R: r, N: maxArchiveSize + 1}
	tr := tar.NewReader(limited)
	got := make(map[string]bool, len(want))
	links := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if limited.N <= 0 {
				return fmt.Errorf("reading archive: larger than %d bytes uncompressed", maxArchiveSize)
			}
			return fmt.Errorf("reading archive: %w", err)
		}
		name, err := checkEntry(hdr, links)
		if err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeSymlink {
			links[name] = true
		}
		target, wanted := want[name]
		if !wanted {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("archive entry %q: is %s, want a regular file", hdr.Name, typeName(hdr.Typeflag))
		}
		if got[name] {
			return fmt.Errorf("archive entry %q: appears twice", hdr.Name)
		}
		if hdr.Size > maxFileSize {
			return fmt.Errorf("archive entry %q: %d bytes, more than the %d allowed", hdr.Name, hdr.Size, maxFileSize)
		}
		if err := writeFile(filepath.Join(dir, target), tr, hdr.Size); err != nil {
			return fmt.Errorf("extracting %q: %w", hdr.Name, err)
		}
		got[name] = true
	}
	var missing []string
	for name := range want {
		if !got[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("archive has no %s", strings.Join(missing, ", "))
	}
	return nil
}

// checkEntry returns the entry's cleaned, relative name, or an error
// wrapping errUnsafeEntry when the entry could escape the directory it is
// extracted into. links holds the symlinks seen so far: a path through one
// of them is refused, because lexical checks cannot see where it leads.
func checkEntry(hdr *tar.Header, links map[string]bool) (string, error) {
	name, err := cleanRelative(hdr.Name)
	if err != nil {
		return "", fmt.Errorf("%w %q: %v", errUnsafeEntry, hdr.Name, err)
	}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if links[dir] {
			return "", fmt.Errorf("%w %q: path goes through symlink %q", errUnsafeEntry, hdr.Name, dir)
		}
	}
	switch hdr.Typeflag {
	case tar.TypeLink:
		return "", fmt.Errorf("%w %q: hard link to %q", errUnsafeEntry, hdr.Name, hdr.Linkname)
	case tar.TypeSymlink:
		if path.IsAbs(hdr.Linkname) {
			return "", fmt.Errorf("%w %q: symlink to absolute path %q", errUnsafeEntry, hdr.Name, hdr.Linkname)
		}
		// The link resolves relative to the directory holding it.
		if _, err := cleanRelative(path.Join(path.Dir(name), hdr.Linkname)); err != nil {
			return "", fmt.Errorf("%w %q: symlink to %q points outside the archive", errUnsafeEntry, hdr.Name, hdr.Linkname)
		}
	}
	return name, nil
}

// cleanRelative cleans an archive path and rejects absolute paths and paths
// that climb out of the archive root.
func cleanRelative(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.Contains(name, `\`) {
		return "", errors.New("backslash in name")
	}
	if path.IsAbs(name) {
		return "", errors.New("absolute path")
	}
	for _, elem := range strings.Split(name, "/") {
		if elem == ".." {
			return "", errors.New(`".." in path`)
		}
	}
	return path.Clean(name), nil
}

func writeFile(dst string, r io.Reader, size int64) (err error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	n, err := io.Copy(f, io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("truncated: %d of %d bytes", n, size)
	}
	return nil
}

func typeName(t byte) string {
	switch t {
	case tar.TypeDir:
		return "a directory"
	case tar.TypeSymlink:
		return "a symlink"
	case tar.TypeLink:
		return "a hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "a device"
	case tar.TypeFifo:
		return "a fifo"
	default:
		return fmt.Sprintf("of type %q", t)
	}
}
