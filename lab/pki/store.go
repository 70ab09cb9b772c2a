package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/atomicfile"
)

// Modes of what Write creates: nothing private is readable by anyone but the
// owner, which is also what ssh insists on for -i keys.
const (
	DirMode     fs.FileMode = 0o700
	PrivateMode fs.FileMode = 0o600
	PublicMode  fs.FileMode = 0o644
)

// Write stores p under dir (created 0700 if missing, tightened to 0700 if
// not): certificates and public keys 0644, private keys 0600. Each file is
// replaced atomically, and ca.pem is written last, so a directory holding
// ca.pem holds a complete PKI even if an earlier Write was interrupted.
func (p *PKI) Write(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, "ssh"), filepath.Join(dir, HostKeysDir)} {
		if err := os.MkdirAll(d, DirMode); err != nil {
			return fmt.Errorf("creating PKI directory %s: %w", d, err)
		}
		if err := os.Chmod(d, DirMode); err != nil {
			return fmt.Errorf("restricting PKI directory %s: %w", d, err)
		}
	}
	type file struct {
		name string
		data []byte
		mode fs.FileMode
	}
	var files []file
	for _, node := range p.nodes() {
		k := p.HostKeys[node]
		files = append(files,
			file{filepath.Join(HostKeysDir, node), k.PrivatePEM, PrivateMode},
			file{filepath.Join(HostKeysDir, node) + pubSuffix, k.AuthorizedKey, PublicMode})
	}
	files = append(files,
		file{UserKeyFile, p.User.PrivatePEM, PrivateMode},
		file{UserPubFile, p.User.AuthorizedKey, PublicMode},
		file{KeyFile, p.KeyPEM, PrivateMode},
		file{CertFile, p.CertPEM, PublicMode},
		file{CAKeyFile, p.CAKeyPEM, PrivateMode},
		file{CACertFile, p.CACertPEM, PublicMode}, // last: marks the set complete
	)
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

// Load reads a PKI that Write stored in dir and checks it with Verify. If
// dir holds no ca.pem the error wraps fs.ErrNotExist.
func Load(dir string) (*PKI, error) {
	p := &PKI{HostKeys: map[string]SSHKey{}}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{
		{CACertFile, &p.CACertPEM},
		{CAKeyFile, &p.CAKeyPEM},
		{CertFile, &p.CertPEM},
		{KeyFile, &p.KeyPEM},
		{UserKeyFile, &p.User.PrivatePEM},
		{UserPubFile, &p.User.AuthorizedKey},
	} {
		data, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return nil, fmt.Errorf("loading PKI from %s: %w", dir, err)
		}
		*f.dst = data
	}
	pubs, err := filepath.Glob(filepath.Join(dir, HostKeysDir, "*"+pubSuffix))
	if err != nil {
		return nil, fmt.Errorf("loading PKI from %s: %w", dir, err)
	}
	for _, pubPath := range pubs {
		node := strings.TrimSuffix(filepath.Base(pubPath), pubSuffix)
		var k SSHKey
		if k.AuthorizedKey, err = os.ReadFile(pubPath); err != nil {
			return nil, fmt.Errorf("loading PKI from %s: %w", dir, err)
		}
		if k.PrivatePEM, err = os.ReadFile(strings.TrimSuffix(pubPath, pubSuffix)); err != nil {
			return nil, fmt.Errorf("loading PKI from %s: host key of %s: %w", dir, node, err)
		}
		p.HostKeys[node] = k
	}
	if err := p.Verify(); err != nil {
		return nil, fmt.Errorf("loading PKI from %s: %w", dir, err)
	}
	return p, nil
}

// LoadOrGenerate loads the PKI in dir if there is one and it covers req, or
// generates one for req and writes it there. created says which happened. A
// PKI that exists but does not fit req (other nodes or addresses, expired) is
// an error, not silently replaced: running guests trust the old one.
func LoadOrGenerate(dir string, req Request) (p *PKI, created bool, err error) {
	p, err = Load(dir)
	switch {
	case err == nil:
		if err := p.Covers(req); err != nil {
			return nil, false, fmt.Errorf("reusing PKI in %s: %w; destroy the lab (lab destroy) or remove %s to start afresh", dir, err, dir)
		}
		return p, false, nil
	case !errors.Is(err, fs.ErrNotExist) || fileExists(filepath.Join(dir, CACertFile)):
		return nil, false, err
	}
	// No ca.pem: nothing complete was ever written here, so any leftovers
	// of an interrupted Write are overwritten.
	if p, err = Generate(req); err != nil {
		return nil, false, err
	}
	if err := p.Write(dir); err != nil {
		return nil, false, err
	}
	return p, true, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// nodes lists the host-key node names in order.
func (p *PKI) nodes() []string {
	names := make([]string, 0, len(p.HostKeys))
	for n := range p.HostKeys {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
