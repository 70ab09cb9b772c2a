package pki

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"golang.org/x/crypto/ssh"
)

func storyRequest() Request {
	return Request{Lab: "kthw", Nodes: []Node{
		{Name: "k8smaster0", IP: netip.MustParseAddr("192.168.199.200")},
		{Name: "k8smaster1", IP: netip.MustParseAddr("192.168.199.201")},
		{Name: "k8smaster2", IP: netip.MustParseAddr("192.168.199.202")},
	}}
}

func generate(t *testing.T) *PKI {
	t.Helper()
	return generateFor(t, storyRequest())
}

func generateFor(t *testing.T, req Request) *PKI {
	t.Helper()
	p, err := Generate(req)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return p
}

func TestChainVerifiesForServerAndClient(t *testing.T) {
	p := generate(t)
	if err := p.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	ca, err := p.CACert()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := p.Cert()
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA: IsCA %v, constraints %v, usage %b", ca.IsCA, ca.BasicConstraintsValid, ca.KeyUsage)
	}
	if cert.IsCA || cert.Subject.CommonName != "kubernetes" {
		t.Errorf("kubernetes cert: IsCA %v, CN %q", cert.IsCA, cert.Subject.CommonName)
	}
	if cert.PublicKeyAlgorithm != x509.ECDSA || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithms %v, %v; want ECDSA", cert.PublicKeyAlgorithm, ca.PublicKeyAlgorithm)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		for _, host := range []string{"192.168.199.201", "127.0.0.1", "k8smaster2", "kubernetes.default.svc.cluster.local"} {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: host, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
				t.Errorf("verify for %s usage %v: %v", host, usage, err)
			}
		}
	}
	// Against another lab's CA the chain must fail.
	other := generate(t)
	otherCA, _ := other.CACert()
	foreign := x509.NewCertPool()
	foreign.AddCert(otherCA)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: foreign}); err == nil {
		t.Error("certificate verified against another lab's CA")
	}
	if time.Until(ca.NotAfter) < 9*365*24*time.Hour || time.Until(cert.NotAfter) < 4*365*24*time.Hour || !cert.NotBefore.Before(time.Now().Add(-30*time.Minute)) {
		t.Errorf("validity CA until %s, cert %s–%s", ca.NotAfter, cert.NotBefore, cert.NotAfter)
	}
}

func TestSANs(t *testing.T) {
	cert, err := generate(t).Cert()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"k8smaster0", "k8smaster1", "k8smaster2", "kubernetes", "kubernetes.default",
		"kubernetes.default.svc", "kubernetes.default.svc.cluster", "kubernetes.svc.cluster.local",
		"kubernetes.default.svc.cluster.local", "localhost"} {
		if !slices.Contains(cert.DNSNames, name) {
			t.Errorf("DNS SANs %v lack %s", cert.DNSNames, name)
		}
	}
	var ips []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	slices.Sort(ips)
	if want := []string{"127.0.0.1", "192.168.199.200", "192.168.199.201", "192.168.199.202"}; !slices.Equal(ips, want) {
		t.Errorf("IP SANs = %v, want %v", ips, want)
	}
}

func TestGenerateRejectsBadRequests(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.200")
	for name, req := range map[string]Request{
		"no lab":      {Nodes: []Node{{Name: "a", IP: ip}}},
		"no nodes":    {Lab: "kthw"},
		"no IP":       {Lab: "kthw", Nodes: []Node{{Name: "a"}}},
		"path name":   {Lab: "kthw", Nodes: []Node{{Name: "../a", IP: ip}}},
		"empty name":  {Lab: "kthw", Nodes: []Node{{IP: ip}}},
		"repeat name": {Lab: "kthw", Nodes: []Node{{Name: "a", IP: ip}, {Name: "a", IP: ip.Next()}}},
	} {
		if _, err := Generate(req); err == nil {
			t.Errorf("%s: Generate accepted %+v", name, req)
		}
	}
}

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

func TestMutualTLSHandshake(t *testing.T) {
	p := generate(t)
	serverCfg, err := p.ServerTLS()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return
				}
				fmt.Fprintf(c, "hello %s\n", c.(*tls.Conn).ConnectionState().PeerCertificates[0].Subject.CommonName)
			}()
		}
	}()
	addr := ln.Addr().String()

	dial := func(cfg *tls.Config) (string, error) {
		d := tls.Dialer{Config: cfg}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		// TLS 1.3 reports a refused client certificate on the first read.
		b, err := io.ReadAll(c)
		return string(b), err
	}

	client, err := p.ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	client.ServerName = "127.0.0.1" // as clientv3 sets it from the endpoint
	if got, err := dial(client); err != nil || got != "hello kubernetes\n" {
		t.Errorf("mutual TLS: %q, %v", got, err)
	}

	noCert := client.Clone()
	noCert.Certificates = nil
	if got, err := dial(noCert); err == nil {
		t.Errorf("client without certificate was served %q", got)
	}

	otherCert, err := generate(t).ClientTLS()
	if err != nil {
		t.Fatal(err)
	}
	foreign := client.Clone()
	foreign.Certificates = otherCert.Certificates
	if got, err := dial(foreign); err == nil {
		t.Errorf("client with another lab's certificate was served %q", got)
	}

	// And the client refuses a server name the certificate does not carry.
	wrongName := client.Clone()
	wrongName.ServerName = "192.168.199.250"
	if _, err := dial(wrongName); err == nil {
		t.Error("client accepted a server for an address not in the SANs")
	}
}

func TestSSHKeys(t *testing.T) {
	p := generate(t)
	signer, err := p.SSHSigner()
	if err != nil {
		t.Fatal(err)
	}
	if signer.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("user key type %s", signer.PublicKey().Type())
	}
	userPub, comment, _, _, err := ssh.ParseAuthorizedKey(p.User.AuthorizedKey)
	if err != nil || comment != "lab@kthw" || !bytes.Equal(userPub.Marshal(), signer.PublicKey().Marshal()) {
		t.Errorf("user authorized key %q (comment %q, err %v) does not match the signer", p.User.AuthorizedKey, comment, err)
	}
	if !bytes.HasPrefix(p.User.PrivatePEM, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n")) {
		t.Errorf("user private key is not OpenSSH PEM: %.40q", p.User.PrivatePEM)
	}

	seen := map[string]bool{}
	for _, node := range []string{"k8smaster0", "k8smaster1", "k8smaster2"} {
		k := p.HostKeys[node]
		priv, err := ssh.ParsePrivateKey(k.PrivatePEM)
		if err != nil {
			t.Fatalf("%s: %v", node, err)
		}
		pub := p.HostKey(node)
		if pub == nil || !bytes.Equal(pub.Marshal(), priv.PublicKey().Marshal()) {
			t.Errorf("%s: HostKey does not match the private host key", node)
		}
		if !strings.HasPrefix(string(k.AuthorizedKey), "ssh-ed25519 ") || !strings.HasSuffix(string(k.AuthorizedKey), " root@"+node+"\n") {
			t.Errorf("%s: public host key line %q", node, k.AuthorizedKey)
		}
		fp := ssh.FingerprintSHA256(pub)
		if seen[fp] {
			t.Errorf("%s: host key shared with another node", node)
		}
		seen[fp] = true
		// The pinned key accepts its own host and refuses another node's.
		cb := ssh.FixedHostKey(pub)
		if err := cb(node, &net.TCPAddr{}, priv.PublicKey()); err != nil {
			t.Errorf("%s: pinned key refused its own host: %v", node, err)
		}
		if err := cb(node, &net.TCPAddr{}, signer.PublicKey()); err == nil {
			t.Errorf("%s: pinned key accepted a different key", node)
		}
	}
	if p.HostKey("k8smaster9") != nil {
		t.Error("HostKey of an unknown node is not nil")
	}
}

// TestSSHLoginWithPinnedHostKey logs in to an SSH server on loopback that
// presents k8smaster1's host key and accepts only the lab's user key, as
// the guests' sshd will after cloud-init.
func TestSSHLoginWithPinnedHostKey(t *testing.T) {
	p := generate(t)
	hostSigner, err := ssh.ParsePrivateKey(p.HostKeys["k8smaster1"].PrivatePEM)
	if err != nil {
		t.Fatal(err)
	}
	userPub, _, _, _, err := ssh.ParseAuthorizedKey(p.User.AuthorizedKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
		if bytes.Equal(key.Marshal(), userPub.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, chans, reqs, err := ssh.NewServerConn(c, cfg)
				if err != nil {
					return
				}
				go ssh.DiscardRequests(reqs)
				for ch := range chans {
					ch.Reject(ssh.Prohibited, "test server")
				}
			}()
		}
	}()

	signer, err := p.SSHSigner()
	if err != nil {
		t.Fatal(err)
	}
	login := func(node string) error {
		c, err := ssh.Dial("tcp", ln.Addr().String(), &ssh.ClientConfig{
			User:            "lab",
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: ssh.FixedHostKey(p.HostKey(node)),
			Timeout:         5 * time.Second,
		})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := login("k8smaster1"); err != nil {
		t.Errorf("login pinned to k8smaster1's key: %v", err)
	}
	if err := login("k8smaster0"); err == nil {
		t.Error("login pinned to k8smaster0's key accepted k8smaster1's server")
	}
}

// TestGenerateReproducible shows how golden tests elsewhere get a stable
// PKI: a fixed Now and a seeded global random source.
func TestGenerateReproducible(t *testing.T) {
	gen := func(t *testing.T) *PKI {
		cryptotest.SetGlobalRandom(t, 42)
		req := storyRequest()
		req.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		return generateFor(t, req)
	}
	var a, b *PKI
	t.Run("a", func(t *testing.T) { a = gen(t) })
	t.Run("b", func(t *testing.T) { b = gen(t) })
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed and time gave different PKIs")
	}
	cert, err := a.Cert()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC); !cert.NotBefore.Equal(want) {
		t.Errorf("NotBefore = %s, want %s", cert.NotBefore, want)
	}
	if c := generate(t); bytes.Equal(c.CAKeyPEM, a.CAKeyPEM) {
		t.Error("an unseeded Generate repeated the seeded CA key")
	}
}
