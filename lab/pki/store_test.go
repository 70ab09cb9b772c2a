package pki

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestWriteModes(t *testing.T) {
	p := generate(t)
	dir := filepath.Join(t.TempDir(), "pki")
	// A pre-existing, too open directory is tightened.
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := p.Write(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		".":                           0o700 | fs.ModeDir,
		"ssh":                         0o700 | fs.ModeDir,
		"ssh/hostkeys":                0o700 | fs.ModeDir,
		"ca.pem":                      0o644,
		"ca-key.pem":                  0o600,
		"kubernetes.pem":              0o644,
		"kubernetes-key.pem":          0o600,
		"ssh/id_ed25519":              0o600,
		"ssh/id_ed25519.pub":          0o644,
		"ssh/hostkeys/k8smaster0":     0o600,
		"ssh/hostkeys/k8smaster0.pub": 0o644,
		"ssh/hostkeys/k8smaster2":     0o600,
		"ssh/hostkeys/k8smaster2.pub": 0o644,
	}
	got := map[string]fs.FileMode{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		got[rel] = info.Mode()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range want {
		if got[name] != mode {
			t.Errorf("%s: mode %v, want %v", name, got[name], mode)
		}
	}
	if len(got) != len(want)+2 { // + k8smaster1 and its .pub
		t.Errorf("files written: %v", got)
	}
	for name := range got {
		if strings.Contains(name, ".tmp-") {
			t.Errorf("temporary file left behind: %s", name)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "ca-key.pem")); !bytes.Equal(data, p.CAKeyPEM) {
		t.Error("ca-key.pem differs from CAKeyPEM")
	}
}

func TestLoadRoundTrip(t *testing.T) {
	p := generate(t)
	dir := t.TempDir()
	if err := p.Write(dir); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(p, back) {
		t.Errorf("Load(Write(p)) differs from p")
	}
}

func TestLoadMissingAndCorrupt(t *testing.T) {
	if _, err := Load(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(empty dir) = %v, want fs.ErrNotExist", err)
	}

	for name, corrupt := range map[string]func(dir string, p *PKI) error{
		"foreign CA key": func(dir string, _ *PKI) error {
			return os.WriteFile(filepath.Join(dir, CAKeyFile), generate(t).CAKeyPEM, 0o600)
		},
		"foreign cert": func(dir string, _ *PKI) error {
			return os.WriteFile(filepath.Join(dir, CertFile), generate(t).CertPEM, 0o644)
		},
		"swapped host key": func(dir string, p *PKI) error {
			return os.WriteFile(filepath.Join(dir, HostKeysDir, "k8smaster1.pub"), p.HostKeys["k8smaster0"].AuthorizedKey, 0o644)
		},
		"missing host private key": func(dir string, _ *PKI) error {
			return os.Remove(filepath.Join(dir, HostKeysDir, "k8smaster2"))
		},
		"truncated user key": func(dir string, p *PKI) error {
			return os.WriteFile(filepath.Join(dir, UserKeyFile), p.User.PrivatePEM[:40], 0o600)
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := generate(t)
			dir := t.TempDir()
			if err := p.Write(dir); err != nil {
				t.Fatal(err)
			}
			if err := corrupt(dir, p); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir); err == nil {
				t.Error("Load accepted a corrupted PKI")
			}
		})
	}
}

func TestLoadOrGenerate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "pki")
	req := storyRequest()
	first, created, err := LoadOrGenerate(dir, req)
	if err != nil || !created {
		t.Fatalf("first LoadOrGenerate = created %v, %v", created, err)
	}
	second, created, err := LoadOrGenerate(dir, req)
	if err != nil || created {
		t.Fatalf("second LoadOrGenerate = created %v, %v", created, err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Error("re-run did not reuse the PKI")
	}

	// Fewer nodes are still covered; a new node or address is not.
	fewer := req
	fewer.Nodes = req.Nodes[:1]
	if _, created, err := LoadOrGenerate(dir, fewer); err != nil || created {
		t.Errorf("LoadOrGenerate(1 of 3 nodes) = created %v, %v", created, err)
	}
	more := req
	more.Nodes = append(slices.Clone(req.Nodes), Node{Name: "k8smaster3", IP: netip.MustParseAddr("192.168.199.203")})
	_, _, err = LoadOrGenerate(dir, more)
	if err == nil || !strings.Contains(err.Error(), "no SSH host key for k8smaster3") ||
		!strings.Contains(err.Error(), "does not name 192.168.199.203") || !strings.Contains(err.Error(), "lab destroy") {
		t.Errorf("LoadOrGenerate(new node) = %v", err)
	}

	// An interrupted Write (no ca.pem yet) is redone from scratch.
	partial := t.TempDir()
	if err := os.MkdirAll(filepath.Join(partial, "ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(partial, UserKeyFile), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, created, err := LoadOrGenerate(partial, req)
	if err != nil || !created {
		t.Fatalf("LoadOrGenerate(partial) = created %v, %v", created, err)
	}
	if _, err := Load(partial); err != nil {
		t.Errorf("after regenerating over a partial dir: %v", err)
	}
	if p.HostKey("k8smaster0") == nil {
		t.Error("regenerated PKI lacks host keys")
	}
}
