package pki

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/kthw-lab/lab/lab/guest"
)

// File names inside the PKI directory, as the guests' /etc/etcd names them
// and as `lab env` exports them for etcdctl.
const (
	CACertFile  = guest.CAFile
	CAKeyFile   = "ca-key.pem"
	CertFile    = guest.CertFile
	KeyFile     = guest.KeyFile
	UserKeyFile = "ssh/id_ed25519"
	UserPubFile = "ssh/id_ed25519.pub"
	HostKeysDir = "ssh/hostkeys"
	pubSuffix   = ".pub"
)

// Node names one machine that the certificate and a host key are for.
type Node struct {
	// Name is the hostname (k8smaster0); it becomes a DNS SAN and names the
	// node's host key file, so it must be a plain file name.
	Name string
	// IP is the node's address; it becomes an IP SAN.
	IP netip.Addr
}

// Request is what Generate needs: the lab's name (for comments and the CA's
// subject) and its nodes.
type Request struct {
	Lab   string
	Nodes []Node
	// Now is the moment the certificates' validity is counted from; zero
	// means time.Now(). Golden tests set it, together with
	// testing/cryptotest.SetGlobalRandom, to get byte-identical keys.
	Now time.Time
}

// SSHKey is an ed25519 key pair in the forms cloud-init and OpenSSH take.
type SSHKey struct {
	// PrivatePEM is the private key in OpenSSH PEM format
	// ("-----BEGIN OPENSSH PRIVATE KEY-----"), what cloud-init's
	// ssh_keys.ed25519_private and ssh -i expect.
	PrivatePEM []byte
	// AuthorizedKey is the public key as one authorized_keys line
	// ("ssh-ed25519 AAAA... comment\n"), what ssh_authorized_keys,
	// ssh_keys.ed25519_public and known_hosts take.
	AuthorizedKey []byte
}

// PKI is a lab's complete set of keys as PEM bytes. Make one with Generate
// or Load; the fields are exported for the seed renderer, which copies them
// into each node's user-data.
type PKI struct {
	// CACertPEM is ca.pem and CAKeyPEM ca-key.pem (PKCS #8).
	CACertPEM []byte
	CAKeyPEM  []byte
	// CertPEM is kubernetes.pem and KeyPEM kubernetes-key.pem (PKCS #8):
	// etcd's serving, peer and client certificate.
	CertPEM []byte
	KeyPEM  []byte
	// User is the key the lab logs in to every node with.
	User SSHKey
	// HostKeys holds each node's SSH host key by node name.
	HostKeys map[string]SSHKey
}

// CACert parses CACertPEM.
func (p *PKI) CACert() (*x509.Certificate, error) { return parseCert(p.CACertPEM, CACertFile) }

// Cert parses CertPEM.
func (p *PKI) Cert() (*x509.Certificate, error) { return parseCert(p.CertPEM, CertFile) }

// CertPool is a pool holding only the lab's CA.
func (p *PKI) CertPool() (*x509.CertPool, error) {
	ca, err := p.CACert()
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return pool, nil
}

// ClientTLS is the TLS configuration of an etcd client (clientv3, check
// perf, status): the kubernetes certificate as client certificate, the lab's
// CA as the only root. clientv3 fills in ServerName from each endpoint.
func (p *PKI) ClientTLS() (*tls.Config, error) {
	pair, pool, err := p.pairAndPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		RootCAs:      pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// ServerTLS is the TLS configuration etcd runs with in the guests
// (--cert-file, --trusted-ca-file, --client-cert-auth), for tests that stand
// in for a member on the host: the kubernetes certificate, and client
// certificates required and verified against the lab's CA.
func (p *PKI) ServerTLS() (*tls.Config, error) {
	pair, pool, err := p.pairAndPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func (p *PKI) pairAndPool() (tls.Certificate, *x509.CertPool, error) {
	pair, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("loading key pair %s/%s: %w", CertFile, KeyFile, err)
	}
	pool, err := p.CertPool()
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return pair, pool, nil
}

// SSHSigner is the lab's user key as an ssh.Signer for ssh.PublicKeys.
func (p *PKI) SSHSigner() (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(p.User.PrivatePEM)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", UserKeyFile, err)
	}
	return s, nil
}

// HostKey is node's pinned SSH host key, for ssh.FixedHostKey; nil when the
// PKI has no valid key for that node, which a caller must treat as an error
// rather than fall back to accepting any key.
func (p *PKI) HostKey(node string) ssh.PublicKey {
	k, ok := p.HostKeys[node]
	if !ok {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(k.AuthorizedKey)
	if err != nil {
		return nil
	}
	return pub
}

func parseCert(data []byte, name string) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("parsing %s: no CERTIFICATE PEM block", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	return c, nil
}
