package etcdbin

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var wantPair = map[string]string{"d/etcd": EtcdFile, "d/etcdctl": EtcdctlFile}

func TestExtractFilesTakesOnlyWantedFiles(t *testing.T) {
	dir := t.TempDir()
	archive := makeTar(t,
		entry{name: "d/", typ: tar.TypeDir},
		entry{name: "d/README.md", body: "readme"},
		entry{name: "./d/etcd", body: "server"},
		entry{name: "d/sub/", typ: tar.TypeDir},
		entry{name: "d/link", typ: tar.TypeSymlink, linkname: "README.md"},
		entry{name: "d/etcdctl", body: "client"},
	)
	if err := extractFiles(bytes.NewReader(archive), dir, wantPair); err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range names {
		got = append(got, n.Name())
	}
	if strings.Join(got, ",") != "etcd,etcdctl" {
		t.Fatalf("extracted %v, want only etcd and etcdctl", got)
	}
	for name, body := range map[string]string{EtcdFile: "server", EtcdctlFile: "client"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(data) != body {
			t.Errorf("%s = %q, %v; want %q", name, data, err, body)
		}
		info, _ := os.Stat(filepath.Join(dir, name))
		if info.Mode().Perm() != 0o755 {
			t.Errorf("%s mode = %v, want 0755", name, info.Mode())
		}
	}
}

func TestExtractFilesRefusesHostileEntries(t *testing.T) {
	ok := []entry{{name: "d/etcd", body: "server"}, {name: "d/etcdctl", body: "client"}}
	tests := []struct {
		name    string
		hostile entry
	}{
		{"parent directory", entry{name: "../evil", body: "x"}},
		{"parent inside path", entry{name: "d/../../evil", body: "x"}},
		{"absolute path", entry{name: "/tmp/evil", body: "x"}},
		{"absolute symlink", entry{name: "d/abs", typ: tar.TypeSymlink, linkname: "/etc/passwd"}},
		{"symlink escaping", entry{name: "d/up", typ: tar.TypeSymlink, linkname: "../../outside"}},
		{"hard link", entry{name: "d/hard", typ: tar.TypeLink, linkname: "d/etcd"}},
		{"hard link outside", entry{name: "d/hard", typ: tar.TypeLink, linkname: "/etc/shadow"}},
		{"backslash", entry{name: `d\..\..\evil`, body: "x"}},
	}
	for _, tt := range tests {
		// The hostile entry comes first and last: either way the whole
		// archive is refused, and nothing of it is written.
		for _, order := range []string{"first", "last"} {
			t.Run(tt.name+"/"+order, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "target")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				entries := append([]entry{tt.hostile}, ok...)
				if order == "last" {
					entries = append(append([]entry{}, ok...), tt.hostile)
				}
				err := extractFiles(bytes.NewReader(makeTar(t, entries...)), dir, wantPair)
				if !errors.Is(err, errUnsafeEntry) {
					t.Fatalf("err = %v, want an unsafe entry error", err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.hostile.name)) {
					t.Errorf("error %q does not name the entry %q", err, tt.hostile.name)
				}
				if _, err := os.Stat(filepath.Join(dir, "..", "evil")); err == nil {
					t.Errorf("a file escaped the target directory")
				}
			})
		}
	}
}

// A symlink to "." is harmless by itself, but an entry through it could be
// made to land anywhere; such paths are refused.
func TestExtractFilesRefusesPathsThroughSymlinks(t *testing.T) {
	archive := makeTar(t,
		entry{name: "d/here", typ: tar.TypeSymlink, linkname: "."},
		entry{name: "d/here/up", typ: tar.TypeSymlink, linkname: ".."},
		entry{name: "d/etcd", body: "server"},
		entry{name: "d/etcdctl", body: "client"},
	)
	err := extractFiles(bytes.NewReader(archive), t.TempDir(), wantPair)
	if !errors.Is(err, errUnsafeEntry) || !strings.Contains(err.Error(), "through symlink") {
		t.Fatalf("err = %v, want a path-through-symlink error", err)
	}
}

func TestExtractFilesBadWantedEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries []entry
		want    string
	}{
		{"missing etcdctl", []entry{{name: "d/etcd", body: "x"}}, "archive has no d/etcdctl"},
		{"wanted is symlink", []entry{{name: "d/real", body: "x"}, {name: "d/etcd", typ: tar.TypeSymlink, linkname: "real"}, {name: "d/etcdctl", body: "y"}}, "is a symlink"},
		{"wanted is directory", []entry{{name: "d/etcd/", typ: tar.TypeDir}, {name: "d/etcdctl", body: "y"}}, "is a directory"},
		{"duplicate", []entry{{name: "d/etcd", body: "x"}, {name: "d/etcd", body: "x"}, {name: "d/etcdctl", body: "y"}}, "appears twice"},
		{"too large", []entry{{name: "d/etcd", body: "x", size: maxFileSize + 1}}, "more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var archive []byte
			if tt.name == "too large" {
				archive = lyingTar(t, tt.entries[0].name, tt.entries[0].size)
			} else {
				archive = makeTar(t, tt.entries...)
			}
			err := extractFiles(bytes.NewReader(archive), t.TempDir(), wantPair)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// lyingTar is a tar header claiming size bytes with no data behind it; the
// size check must fire before anything is read.
func lyingTar(t *testing.T, name string, size int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: size, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes() // no body, no trailer
}

func TestExtractFilesTruncated(t *testing.T) {
	archive := makeTar(t, entry{name: "d/etcd", body: strings.Repeat("x", 4096)}, entry{name: "d/etcdctl", body: "y"})
	err := extractFiles(bytes.NewReader(archive[:1024]), t.TempDir(), wantPair)
	if err == nil {
		t.Fatal("truncated archive extracted without error")
	}
}
