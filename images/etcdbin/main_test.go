package etcdbin

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeMarker precedes the version that fakeELF appends to a copy of the
// test binary.
const fakeMarker = "\nLAB-FAKE-ETCD-VERSION="

// TestMain lets a copy of the test binary named etcd or etcdctl act as a
// fake etcd: a real x86-64 ELF executable that prints the version appended
// to it, the way the real binaries do.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case EtcdFile, EtcdctlFile:
		os.Exit(fakeEtcd(filepath.Base(os.Args[0]), os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeEtcd(program string, args []string) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	i := bytes.LastIndex(data, []byte(fakeMarker))
	if i < 0 {
		fmt.Fprintln(os.Stderr, "fake etcd has no version")
		return 1
	}
	v := strings.TrimSpace(string(data[i+len(fakeMarker):]))
	switch {
	case program == EtcdFile && slices.Equal(args, []string{"--version"}):
		fmt.Printf("etcd Version: %s\nGit SHA: GitNotFound\nGo Version: go1.26\n", v)
	case program == EtcdctlFile && slices.Equal(args, []string{"version"}):
		fmt.Printf("etcdctl version: %s\nAPI version: 3.6\n", v)
	default:
		fmt.Fprintf(os.Stderr, "fake %s: unexpected arguments %q\n", program, args)
		return 2
	}
	return 0
}

// fakeELF writes a copy of the test binary to path that reports version v
// (without the "v") when run under the name etcd or etcdctl.
func fakeELF(t *testing.T, path, v string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, fakeMarker+v+"\n"...)
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// cacheFiles lists every file under root, relative to it, so tests can
// check that nothing was left behind.
func cacheFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}
