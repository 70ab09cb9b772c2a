package etcdbin

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/blakesmith/ar"
	"github.com/ulikunitz/xz"

	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/images/download"
)

// The Debian archive etcd 3.4 comes from: bookworm ships etcd-server and
// etcd-client 3.4.23, the story's generation of etcd (pre-vote off by
// default), which no Go module build of lab's can produce.
const (
	DefaultDebianMirror  = "http://deb.debian.org/debian"
	DefaultDebianSuite   = "bookworm"
	DefaultDebianKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
	// SourceDebian is the --from value that takes etcd from Debian.
	SourceDebian = "debian"
)

const (
	originDebian = "debian"
	metaDebian   = "debian_version"
	metaSigned   = "release_signature"
	debianArch   = "amd64"
	packagesPath = "main/binary-" + debianArch + "/Packages.gz"
)

// DebianOptions says which etcd to take from the Debian archive. Mirror,
// Suite and Keyring default to DefaultDebianMirror, DefaultDebianSuite and
// DefaultDebianKeyring; Client to http.DefaultClient.
type DebianOptions struct {
	FetchOptions
	Mirror, Suite, Keyring string
}

// FetchDebian takes etcd and etcdctl of a version (the upstream part of
// Debian's, e.g. v3.4.23 for 3.4.23-4+b4) from the Debian archive into the
// cache, verified through the archive's chain of checksums: the suite's
// InRelease, its signature checked with gpgv against Debian's keyring when
// the host has it; Packages.gz against the SHA256 in InRelease; each .deb
// against the SHA256 in Packages. A cached pair is returned unless Force.
func FetchDebian(ctx context.Context, o DebianOptions) (*Binaries, error) {
	v, err := parseVersion(o.Version)
	if err != nil {
		return nil, err
	}
	if o.Cache == nil {
		return nil, errors.New("fetching etcd from Debian: no cache given")
	}
	if !o.Force {
		b, replace, err := fromCache(o.Cache, v, originDebian, o.Progress, "fetching")
		if err != nil || b != nil {
			return b, err
		}
		o.Force = replace
	}
	b, err := fetchDebian(ctx, v, o)
	if err != nil {
		return nil, fmt.Errorf("fetching etcd %s from Debian %s: %w", v, o.suite(), err)
	}
	return b, nil
}

func (o DebianOptions) mirror() string {
	if o.Mirror == "" {
		return DefaultDebianMirror
	}
	return strings.TrimRight(o.Mirror, "/")
}

func (o DebianOptions) suite() string {
	if o.Suite == "" {
		return DefaultDebianSuite
	}
	return o.Suite
}

func (o DebianOptions) keyring() string {
	if o.Keyring == "" {
		return DefaultDebianKeyring
	}
	return o.Keyring
}

func fetchDebian(ctx context.Context, v version, o DebianOptions) (*Binaries, error) {
	stage, err := o.Cache.Stage(Kind)
	if err != nil {
		return nil, err
	}
	defer stage.Abort()
	dl := filepath.Join(stage.Dir, downloadDir)
	if err := os.Mkdir(dl, 0o755); err != nil {
		return nil, fmt.Errorf("creating download directory: %w", err)
	}

	release, signed, err := o.release(ctx, dl)
	if err != nil {
		return nil, err
	}
	sums, err := releaseSHA256(release)
	if err != nil {
		return nil, err
	}
	digest, ok := sums[packagesPath]
	if !ok {
		return nil, fmt.Errorf("the suite's Release lists no %s", packagesPath)
	}
	pkgsURL := o.mirror() + "/dists/" + o.suite() + "/" + packagesPath
	pkgsFile := filepath.Join(dl, "Packages.gz")
	end := o.Progress.Start("downloading %s", pkgsURL)
	err = download.Get(ctx, download.Request{URL: pkgsURL, Dest: pkgsFile, Digest: digest, Algorithm: download.SHA256, Client: o.Client})
	end(err)
	if err != nil {
		return nil, err
	}
	pkgs, err := findPackages(pkgsFile, v, "etcd-server", "etcd-client")
	if err != nil {
		return nil, err
	}
	want := map[string]string{"etcd-server": "usr/bin/" + EtcdFile, "etcd-client": "usr/bin/" + EtcdctlFile}
	var urls []string
	for _, name := range []string{"etcd-server", "etcd-client"} {
		p := pkgs[name]
		url := o.mirror() + "/" + p.Filename
		deb := filepath.Join(dl, filepath.Base(p.Filename))
		end := o.Progress.Start("downloading %s", url)
		err := download.Get(ctx, download.Request{URL: url, Dest: deb, Digest: p.SHA256, Algorithm: download.SHA256, Progress: o.Progress, Client: o.Client})
		end(err)
		if err != nil {
			return nil, err
		}
		if err := extractDeb(deb, stage.Dir, want[name]); err != nil {
			return nil, fmt.Errorf("extracting %s: %w", filepath.Base(deb), err)
		}
		urls = append(urls, url)
	}
	if err := os.RemoveAll(dl); err != nil {
		return nil, fmt.Errorf("removing the downloads: %w", err)
	}
	etcd, etcdctl := filepath.Join(stage.Dir, EtcdFile), filepath.Join(stage.Dir, EtcdctlFile)
	if hostRunsGuestBinaries() {
		if err := checkVersions(ctx, v.String(), etcd, etcdctl); err != nil {
			return nil, fmt.Errorf("checking Debian's binaries: %w", err)
		}
	}
	m := cache.Manifest{
		Name:   "etcd " + v.String() + " (Debian " + o.suite() + ")",
		Source: strings.Join(urls, " "),
		Metadata: map[string]string{
			metaVersion: v.String(),
			metaOrigin:  originDebian,
			metaDebian:  pkgs["etcd-server"].Version,
			metaSigned:  signed,
			metaURL:     urls[0],
		},
	}
	commit := stage.Commit
	if o.Force {
		commit = stage.Replace
	}
	e, err := commit(cacheKey(v, originDebian), m)
	if err != nil {
		return nil, err
	}
	o.Progress.Printf("etcd %s from Debian %s (%s; Release %s) verified and unpacked into %s",
		v, o.suite(), pkgs["etcd-server"].Version, signed, e.Dir)
	return fromEntry(e)
}

// release downloads the suite's InRelease and returns its signed text and
// how it was checked: "verified with KEYRING" when gpgv accepted the
// signature, or "not verified: ..." when the host has no keyring or no
// gpgv (the checksums below it still hold the chain together, but nothing
// vouches for the first link). A signature gpgv rejects is an error.
func (o DebianOptions) release(ctx context.Context, dir string) (text []byte, signed string, err error) {
	url := o.mirror() + "/dists/" + o.suite() + "/InRelease"
	end := o.Progress.Start("downloading %s", url)
	body, err := getSmall(ctx, o.Client, url)
	end(err)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(dir, "InRelease")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return nil, "", err
	}
	keyring := o.keyring()
	gpgv, lookErr := exec.LookPath("gpgv")
	if _, statErr := os.Stat(keyring); statErr != nil || lookErr != nil {
		why := "no keyring " + keyring
		if statErr == nil {
			why = "no gpgv"
		}
		o.Progress.Printf("warning: the Release signature is not checked (%s): the chain of checksums starts unverified", why)
		text, err := clearsigned(body)
		return text, "not verified: " + why, err
	}
	out := filepath.Join(dir, "Release")
	cmd := exec.CommandContext(ctx, gpgv, "--keyring", keyring, "--output", out, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("checking the signature of %s with gpgv against %s: %w: %s", url, keyring, err, strings.TrimSpace(stderr.String()))
	}
	text, err = os.ReadFile(out)
	return text, "verified with " + keyring, err
}

// getSmall fetches a small document (InRelease is about 150 kB).
func getSmall(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

// clearsigned returns the text of an OpenPGP clear-signed message, without
// checking its signature.
func clearsigned(msg []byte) ([]byte, error) {
	const begin, sig = "-----BEGIN PGP SIGNED MESSAGE-----\n", "\n-----BEGIN PGP SIGNATURE-----"
	if !bytes.HasPrefix(msg, []byte(begin)) {
		return nil, errors.New("InRelease is not a clear-signed message")
	}
	rest := msg[len(begin):]
	i := bytes.Index(rest, []byte("\n\n")) // the armor headers end with a blank line
	j := bytes.Index(rest, []byte(sig))
	if i < 0 || j < i {
		return nil, errors.New("InRelease is not a clear-signed message")
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(rest[i+2:j+1]), "\n") {
		out.WriteString(strings.TrimPrefix(line, "- ")) // dash-escaping
	}
	return out.Bytes(), nil
}

// releaseSHA256 reads the SHA256 field of a Release file: path → digest.
func releaseSHA256(release []byte) (map[string]string, error) {
	sums := map[string]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(release))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "SHA256:":
			in = true
		case in && strings.HasPrefix(line, " "):
			f := strings.Fields(line)
			if len(f) == 3 {
				sums[f[2]] = f[0]
			}
		default:
			in = false
		}
	}
	if len(sums) == 0 {
		return nil, errors.New("the suite's Release has no SHA256 checksums")
	}
	return sums, nil
}

// debPackage is the part of a Packages stanza the fetch needs.
type debPackage struct {
	Name, Version, Filename, SHA256 string
}

// findPackages reads a Packages.gz and returns, for each name, the amd64
// package whose upstream version is v.
func findPackages(path string, v version, names ...string) (map[string]debPackage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading Packages.gz: %w", err)
	}
	defer zr.Close()
	pkgs, err := parsePackages(zr, v, names...)
	if err != nil {
		return nil, err
	}
	return pkgs, nil
}

func parsePackages(r io.Reader, v version, names ...string) (map[string]debPackage, error) {
	found := map[string]debPackage{}
	others := map[string][]string{}
	var cur debPackage
	var arch string
	flush := func() {
		upstream, _, _ := strings.Cut(cur.Version, "-")
		_, upstream, _ = strings.Cut("0:"+upstream, ":") // drop an epoch
		for _, n := range names {
			if cur.Name == n && arch == debianArch && cur.Filename != "" && cur.SHA256 != "" {
				if "v"+upstream == v.String() {
					found[n] = cur
				} else {
					others[n] = append(others[n], cur.Version)
				}
			}
		}
		cur, arch = debPackage{}, ""
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		key, value, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch key {
		case "Package":
			cur.Name = value
		case "Version":
			cur.Version = value
		case "Architecture":
			arch = value
		case "Filename":
			cur.Filename = value
		case "SHA256":
			cur.SHA256 = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading Packages: %w", err)
	}
	flush()
	var errs []error
	for _, n := range names {
		if _, ok := found[n]; !ok {
			has := "none"
			if len(others[n]) > 0 {
				has = strings.Join(others[n], ", ")
			}
			errs = append(errs, fmt.Errorf("the archive has no %s %s for %s (it has: %s)", n, v, debianArch, has))
		}
	}
	return found, errors.Join(errs...)
}

// extractDeb takes one file (member, e.g. "usr/bin/etcd") from a .deb's
// data.tar.xz into dir under its base name, with extractFiles' safety
// rules.
func extractDeb(deb, dir, member string) error {
	f, err := os.Open(deb)
	if err != nil {
		return err
	}
	defer f.Close()
	rd := ar.NewReader(f)
	for {
		hdr, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return errors.New("no data.tar.xz in the package")
		}
		if err != nil {
			return fmt.Errorf("reading the ar archive: %w", err)
		}
		name := strings.TrimSuffix(strings.TrimSpace(hdr.Name), "/")
		if !strings.HasPrefix(name, "data.tar") {
			continue
		}
		if name != "data.tar.xz" {
			return fmt.Errorf("the package's data is %s; only data.tar.xz is read", name)
		}
		xr, err := xz.NewReader(rd)
		if err != nil {
			return fmt.Errorf("reading data.tar.xz: %w", err)
		}
		return extractFiles(xr, dir, map[string]string{member: filepath.Base(member)})
	}
}
