// Package atomicfile replaces files so that a reader, or a crash, sees the
// old content or the new, never half of it. Every file is written to a new
// temporary file that already has its final mode and then renamed over the
// path: an existing file is never written through (its mode and owner do
// not carry over), and a symbolic link at the path is replaced, never
// followed.
package atomicfile

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces path with data, mode mode, through a temporary file in the
// same directory that is synced and then renamed over path.
func Write(path string, data []byte, mode fs.FileMode) error {
	return WriteFrom(path, bytes.NewReader(data), mode)
}

// WriteFrom is Write with the content read from r, for large files.
func WriteFrom(path string, r io.Reader, mode fs.FileMode) error {
	return WriteWith(path, mode, func(f *os.File) error {
		_, err := io.Copy(f, r)
		return err
	})
}

// WriteWith is Write with the content written by fill into the temporary
// file, which is created with mode mode (os.CreateTemp makes it 0600 and
// O_EXCL, so nothing else can have it open), before any byte is written.
func WriteWith(path string, mode fs.FileMode, fill func(*os.File) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := fill(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// MkdirPrivate makes dir with mode mode when it is missing and checks that
// it is a directory, not a symbolic link to one: files written into it then
// land where the caller thinks.
func MkdirPrivate(dir string, mode fs.FileMode) error {
	if err := os.Mkdir(dir, mode); err != nil && !os.IsExist(err) {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("creating %s: it exists and is not a directory (a symbolic link?): remove it", dir)
	}
	return nil
}
