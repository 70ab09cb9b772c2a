package cloudinit

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/kdomanski/iso9660"
)

// WriteISO writes the seed as an ISO 9660 image labelled cidata. Files
// from ExtraFiles are hard-linked into the writer's staging directory when
// they can be and copied otherwise; nothing is held in memory whole.
//
// The image carries no Rock Ridge and wrong timestamps, so the guest sees
// every file without an execute bit: install binaries with install -m.
func WriteISO(w io.Writer, s Seed) (err error) {
	files, err := s.files()
	if err != nil {
		return fmt.Errorf("writing seed ISO: %w", err)
	}
	iw, err := iso9660.NewWriter()
	if err != nil {
		return fmt.Errorf("writing seed ISO: creating staging directory: %w", err)
	}
	defer func() {
		if cerr := iw.Cleanup(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("removing seed ISO staging directory: %w", cerr))
		}
	}()
	for _, f := range files {
		if f.path != "" {
			err = iw.AddLocalFile(f.path, f.name)
		} else {
			err = iw.AddFile(bytes.NewReader(f.data), f.name)
		}
		if err != nil {
			return fmt.Errorf("writing seed ISO: adding %s: %w", f.name, err)
		}
	}
	if err := iw.WriteTo(w, VolumeLabel); err != nil {
		return fmt.Errorf("writing seed ISO: %w", err)
	}
	return nil
}

// ISO returns the seed's ISO image in memory.
func ISO(s Seed) ([]byte, error) {
	var buf bytes.Buffer
	if err := WriteISO(&buf, s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
