package preflight

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImageFormat(t *testing.T) {
	qcow := append([]byte{'Q', 'F', 'I', 0xfb, 0, 0, 0, 3}, make([]byte, 100)...)
	mbr := make([]byte, 1024)
	mbr[510], mbr[511] = 0x55, 0xaa
	ext := make([]byte, 2048)
	ext[1080], ext[1081] = 0x53, 0xef
	badQcow := append([]byte{'Q', 'F', 'I', 0xfb, 0, 0, 0, 9}, make([]byte, 100)...)
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"qcow2", FormatQcow2, qcow},
		{"mbr", FormatRaw, mbr},
		{"ext4", FormatRaw, ext},
		{"passwd", "", []byte("root:x:0:0:root:/root:/bin/bash\n")},
		{"empty", "", nil},
		{"qcow2 v9", "", badQcow},
	} {
		got, err := ImageFormat(write(t, tc.name, tc.data))
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("%s: ImageFormat = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestCheckImage(t *testing.T) {
	qcow := write(t, "base.qcow2", append([]byte{'Q', 'F', 'I', 0xfb, 0, 0, 0, 3}, make([]byte, 100)...))
	if err := CheckImage(qcow); err != nil {
		t.Errorf("qcow2 refused: %v", err)
	}
	if err := CheckImage(t.TempDir()); err != nil {
		t.Errorf("a directory (cache entry) refused here: %v", err)
	}
	raw := make([]byte, 1024)
	raw[510], raw[511] = 0x55, 0xaa
	for path, want := range map[string]string{
		"/etc/passwd":                   "not a disk image",
		"/dev/null":                     "not a regular file",
		"/nonexistent/base.qcow2":       "no such file",
		write(t, "disk.raw", raw):       "qemu-img convert -O qcow2",
		write(t, "short", []byte("QF")): "not a disk image",
	} {
		err := CheckImage(path)
		if err == nil || !strings.HasPrefix(err.Error(), "--image ") || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckImage(%s) = %v, want --image ... %q", path, err, want)
		}
	}
}

func TestMemTotal(t *testing.T) {
	p := write(t, "meminfo", []byte("MemFree: 1 kB\nMemTotal:       24684544 kB\n"))
	if got, err := memTotalMiB(p); err != nil || got != 24106 {
		t.Errorf("memTotalMiB = %d, %v; want 24106", got, err)
	}
	if _, err := memTotalMiB(write(t, "empty", nil)); err == nil {
		t.Error("no MemTotal: no error")
	}
	h, err := LocalHost()
	if err != nil || h.CPUs < 1 || h.MemoryMiB < 1 {
		t.Errorf("LocalHost = %+v, %v", h, err)
	}
}
