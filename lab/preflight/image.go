package preflight

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/kthw-lab/lab/lab/spec"
)

// Image formats ImageFormat recognises.
const (
	FormatQcow2 = "qcow2"
	FormatRaw   = "raw"
)

var qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}

// ImageFormat reads the header of the disk image at path and returns
// FormatQcow2 or FormatRaw (a disk with an MBR or GPT partition table, or a
// bare ext2/3/4 file system). Anything else — a text file, a truncated
// download — is an error naming the file and what it is not.
func ImageFormat(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading image %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading image %s: %w", path, err)
	}
	head = head[:n]
	switch {
	case len(head) >= 8 && bytes.Equal(head[:4], qcow2Magic):
		if v := binary.BigEndian.Uint32(head[4:8]); v != 2 && v != 3 {
			return "", fmt.Errorf("image %s: qcow2 version %d, which QEMU does not read", path, v)
		}
		return FormatQcow2, nil
	case len(head) >= 512 && head[510] == 0x55 && head[511] == 0xaa:
		return FormatRaw, nil // MBR, or GPT's protective MBR
	case len(head) >= 1082 && head[1080] == 0x53 && head[1081] == 0xef:
		return FormatRaw, nil // an ext2/3/4 superblock at 1024, magic 0xEF53
	}
	return "", fmt.Errorf("image %s is neither a qcow2 nor a raw disk image (by its first bytes)", path)
}

// CheckImage refuses an --image path that is not a qcow2 file lab can boot:
// missing, not a regular file, or of another format. Names of cached
// images (no slash) are left to the cache lookup.
func CheckImage(path string) error {
	refuse := func(problem, fix string) error {
		return &spec.FieldError{Flag: "--image", Value: fmt.Sprintf("%q", path), Problem: problem, Fix: fix}
	}
	const fix = "give a qcow2 image (lab image build, lab image fetch) or a name from 'lab image list'"
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return refuse("no such file", fix)
	case err != nil:
		return refuse(err.Error(), fix)
	case info.IsDir():
		return nil // a cache entry directory: the cache lookup reads it
	case !info.Mode().IsRegular():
		return refuse("not a regular file", fix)
	}
	format, err := ImageFormat(path)
	switch {
	case err != nil:
		return refuse("not a disk image: neither qcow2 nor raw by its header", fix)
	case format == FormatRaw:
		// The nodes' OS disks are qcow2 overlays with the image as a
		// qcow2 backing file.
		return refuse("a raw disk image; lab boots qcow2 images",
			fmt.Sprintf("convert it: qemu-img convert -O qcow2 %s %s.qcow2", path, path))
	}
	return nil
}
