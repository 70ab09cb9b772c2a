package etcdbin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
)

// entry is one member of a test archive.
type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
	// size overrides the header size (for lying headers); 0 means len(body).
	size int64
}

// makeTar builds an uncompressed tar archive from entries.
func makeTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: typ, Linkname: e.linkname, Mode: 0o755}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.body))
			if e.size != 0 {
				hdr.Size = e.size
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("writing tar header %q: %v", e.name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// makeTarGz is makeTar, gzipped.
func makeTarGz(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(makeTar(t, entries...)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fakeScript is a shell script that prints what `etcd --version` or
// `etcdctl version` prints for release v (given without "v").
func fakeScript(program, v string) string {
	if program == EtcdFile {
		return "#!/bin/sh\necho 'etcd Version: " + v + "'\necho 'Git SHA: fake'\n"
	}
	return "#!/bin/sh\necho 'etcdctl version: " + v + "'\necho 'API version: 3'\n"
}

// releaseEntries is the layout of an official release tarball.
func releaseEntries(v string) []entry {
	dir := "etcd-v" + v + "-linux-amd64/"
	return []entry{
		{name: dir, typ: tar.TypeDir},
		{name: dir + "Documentation/", typ: tar.TypeDir},
		{name: dir + "Documentation/README.md", body: "docs"},
		{name: dir + "README.md", body: "readme"},
		{name: dir + "etcd", body: fakeScript(EtcdFile, v)},
		{name: dir + "etcdctl", body: fakeScript(EtcdctlFile, v)},
		{name: dir + "etcdutl", body: "#!/bin/sh\n"},
		{name: dir + "README-etcdctl.md", typ: tar.TypeSymlink, linkname: "README.md"},
	}
}
