package cloudinit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteDir writes the seed's files into dir (created 0700 if missing),
// each under its seed name with mode 0600 since user-data carries private
// keys. The bytes are those WriteISO puts on the image.
func WriteDir(dir string, s Seed) error {
	files, err := s.files()
	if err != nil {
		return fmt.Errorf("writing seed to %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing seed: %w", err)
	}
	for _, f := range files {
		if err := writeSeedFile(filepath.Join(dir, f.name), f); err != nil {
			return fmt.Errorf("writing seed file %s: %w", f.name, err)
		}
	}
	return nil
}

func writeSeedFile(dst string, f seedFile) (err error) {
	src, err := f.open()
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	_, err = io.Copy(out, src)
	return err
}
