package etcdbin

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/blakesmith/ar"
	"github.com/ulikunitz/xz"

	"github.com/kthw-lab/lab/images/cache"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// makeDeb builds a Debian package whose data.tar.xz holds entries.
func makeDeb(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var data bytes.Buffer
	xw, err := xz.NewWriter(&data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xw.Write(makeTar(t, entries...)); err != nil {
		t.Fatal(err)
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	var deb bytes.Buffer
	w := ar.NewWriter(&deb)
	if err := w.WriteGlobalHeader(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.xz", []byte("not read")}, {"data.tar.xz", data.Bytes()}} {
		if err := w.WriteHeader(&ar.Header{Name: m.name, Size: int64(len(m.body)), Mode: 0o644, ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	return deb.Bytes()
}

// debianArchive serves a suite "bookworm" holding etcd-server and
// etcd-client of version (Debian's, e.g. "3.4.23-4+b4"), with InRelease
// clear-signed by nobody: the tests run without Debian's keyring.
type debianArchive struct {
	*releaseServer
	server, client, packages, release []byte
}

func newDebianArchive(t *testing.T, version string) *debianArchive {
	upstream, _, _ := strings.Cut(version, "-")
	a := &debianArchive{releaseServer: newReleaseServer(t)}
	a.server = makeDeb(t, entry{name: "./usr/", typ: tar.TypeDir}, entry{name: "./usr/bin/", typ: tar.TypeDir},
		entry{name: "./usr/bin/etcd", body: fakeScript(EtcdFile, upstream)},
		entry{name: "./usr/share/doc/etcd-server/README", body: "doc"})
	a.client = makeDeb(t, entry{name: "./usr/bin/etcdctl", body: fakeScript(EtcdctlFile, upstream)})
	var pk bytes.Buffer
	for _, p := range []struct {
		name string
		deb  []byte
	}{{"etcd-server", a.server}, {"etcd-client", a.client}} {
		file := "pool/main/e/etcd/" + p.name + "_" + version + "_amd64.deb"
		a.files["/"+file] = p.deb
		pk.WriteString("Package: " + p.name + "\nSource: etcd\nVersion: " + version + "\nArchitecture: amd64\n" +
			"Filename: " + file + "\nSize: 1\nSHA256: " + sha(p.deb) + "\nDescription: x\n extended\n\n")
		// The same package for another architecture must not be taken.
		pk.WriteString("Package: " + p.name + "\nVersion: " + version + "\nArchitecture: arm64\nFilename: x.deb\nSHA256: 00\n\n")
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pk.Bytes())
	zw.Close()
	a.packages = gz.Bytes()
	a.files["/dists/bookworm/"+packagesPath] = a.packages
	a.setRelease(sha(a.packages))
	return a
}

func (a *debianArchive) setRelease(packagesDigest string) {
	release := "Origin: Debian\nSuite: stable\nCodename: bookworm\nMD5Sum:\n 00 1 " + packagesPath + "\nSHA256:\n" +
		" 1111111111111111111111111111111111111111111111111111111111111111 5 main/binary-amd64/Packages\n" +
		" " + packagesDigest + " 123 " + packagesPath + "\n"
	a.files["/dists/bookworm/InRelease"] = []byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + release +
		"-----BEGIN PGP SIGNATURE-----\n\nnot a signature\n-----END PGP SIGNATURE-----\n")
}

func (a *debianArchive) opts(c *cache.Cache, v string) DebianOptions {
	return DebianOptions{FetchOptions: FetchOptions{Cache: c, Version: v, Client: a.Client()},
		Mirror: a.URL, Keyring: "/nonexistent/keyring.gpg"}
}

// TestFetchDebianFollowsTheChecksums: InRelease → Packages.gz → each .deb,
// the binaries from data.tar.xz, cached under the debian origin and listed
// with the package version and how the Release was checked.
func TestFetchDebianFollowsTheChecksums(t *testing.T) {
	a := newDebianArchive(t, "3.4.23-4+b4")
	c := &cache.Cache{Root: t.TempDir()}
	b, err := FetchDebian(t.Context(), a.opts(c, "v3.4.23"))
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{EtcdFile: b.Etcd, EtcdctlFile: b.Etcdctl} {
		data, err := os.ReadFile(path)
		if err != nil || string(data) != fakeScript(name, "3.4.23") {
			t.Errorf("%s = %q, %v", name, data, err)
		}
	}
	if b.Version != "v3.4.23" || !strings.Contains(b.Source, "etcd-server_3.4.23-4+b4_amd64.deb") {
		t.Errorf("binaries = %+v", b)
	}
	list, err := List(c)
	if err != nil || len(list) != 1 || list[0].Origin != "Debian package" ||
		list[0].Detail != "package 3.4.23-4+b4, Release not verified: no keyring /nonexistent/keyring.gpg" {
		t.Errorf("List = %+v, %v", list, err)
	}
	if r, err := Resolve(c, "v3.4.23"); err != nil || r.Etcd != b.Etcd {
		t.Errorf("Resolve = %+v, %v; want the Debian binaries", r, err)
	}
	before := a.requests.Load()
	if _, err := FetchDebian(t.Context(), a.opts(c, "v3.4.23")); err != nil || a.requests.Load() != before {
		t.Errorf("a second fetch made %d requests (%v), want none: it is cached", a.requests.Load()-before, err)
	}
}

// TestFetchDebianRejects: a broken link anywhere in the chain fails the
// fetch and leaves nothing in the cache.
func TestFetchDebianRejects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string
		spoil   func(*debianArchive)
		want    string
	}{
		{"a .deb that is not the one Packages lists", "v3.4.23", func(a *debianArchive) {
			a.files["/pool/main/e/etcd/etcd-server_3.4.23-4+b4_amd64.deb"] = makeDeb(t, entry{name: "./usr/bin/etcd", body: "evil"})
		}, "sha256"},
		{"Packages.gz that is not the one Release lists", "v3.4.23", func(a *debianArchive) {
			a.setRelease(strings.Repeat("ab", 32))
		}, "sha256"},
		{"a version the archive does not have", "v3.4.7", func(*debianArchive) {}, "the archive has no etcd-server v3.4.7 for amd64 (it has: 3.4.23-4+b4)"},
		{"InRelease that is not clear-signed", "v3.4.23", func(a *debianArchive) {
			a.files["/dists/bookworm/InRelease"] = []byte("SHA256:\n")
		}, "not a clear-signed message"},
		{"a package without data.tar.xz", "v3.4.23", func(a *debianArchive) {
			a.client = []byte("!<arch>\n")
			a.files["/pool/main/e/etcd/etcd-client_3.4.23-4+b4_amd64.deb"] = a.client
		}, "sha256"},
	} {
		a := newDebianArchive(t, "3.4.23-4+b4")
		tc.spoil(a)
		c := &cache.Cache{Root: t.TempDir()}
		_, err := FetchDebian(t.Context(), a.opts(c, tc.version))
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if list, _ := List(c); len(list) != 0 {
			t.Errorf("%s: the cache holds %+v", tc.name, list)
		}
	}
}

// TestFetchDebianChecksTheSignature: with a keyring and gpgv on the host,
// an InRelease whose signature gpgv rejects is an error, not a warning.
func TestFetchDebianChecksTheSignature(t *testing.T) {
	if _, err := exec.LookPath("gpgv"); err != nil {
		t.Skip("no gpgv on this host: the signature check is not exercised")
	}
	if _, err := os.Stat(DefaultDebianKeyring); err != nil {
		t.Skip("no Debian keyring on this host: the signature check is not exercised")
	}
	a := newDebianArchive(t, "3.4.23-4+b4")
	o := a.opts(&cache.Cache{Root: t.TempDir()}, "v3.4.23")
	o.Keyring = DefaultDebianKeyring
	_, err := FetchDebian(t.Context(), o)
	if err == nil || !strings.Contains(err.Error(), "checking the signature") {
		t.Errorf("err = %v, want the signature refused", err)
	}
}

func TestClearsignedUnescapesDashes(t *testing.T) {
	got, err := clearsigned([]byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: 1\n- -dash\n\n-----BEGIN PGP SIGNATURE-----\nx\n"))
	if err != nil || string(got) != "A: 1\n-dash\n\n" {
		t.Errorf("clearsigned = %q, %v", got, err)
	}
}
