package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// Validity of what Generate makes. A lab is meant to be re-created at will,
// but its state can outlive a year, and an expired CA would strand it.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	CertValidity = 5 * 365 * 24 * time.Hour
	// clockSkew backdates NotBefore: a guest whose clock lags the host's
	// (slow TCG boot, RTC in local time) must still accept the certificate.
	clockSkew = time.Hour
)

// ServiceNames are the DNS names of the API server in "Kubernetes the hard
// way", which the kubernetes certificate carries besides the node names.
var ServiceNames = []string{
	"kubernetes",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster",
	"kubernetes.svc.cluster.local",
	"kubernetes.default.svc.cluster.local",
	"localhost",
}

// Loopback is the address every member also listens on for clients.
var Loopback = netip.MustParseAddr("127.0.0.1")

var nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Generate makes a new CA, the kubernetes certificate signed by it for every
// node, the lab's SSH user key and one SSH host key per node.
func Generate(req Request) (*PKI, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	now := req.Now
	if now.IsZero() {
		now = time.Now()
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "lab-" + req.Lab + " CA", Organization: []string{"Kubernetes"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	caPEM, ca, err := sign(caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating kubernetes key: %w", err)
	}
	dns, ips := req.SANs()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kubernetes", Organization: []string{"Kubernetes"}},
		NotBefore:   now.Add(-clockSkew),
		NotAfter:    now.Add(CertValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:    dns,
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
	}
	certPEM, _, err := sign(tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("signing kubernetes certificate: %w", err)
	}

	p := &PKI{CACertPEM: caPEM, CertPEM: certPEM, HostKeys: make(map[string]SSHKey, len(req.Nodes))}
	if p.CAKeyPEM, err = pkcs8PEM(caKey); err != nil {
		return nil, fmt.Errorf("encoding CA key: %w", err)
	}
	if p.KeyPEM, err = pkcs8PEM(key); err != nil {
		return nil, fmt.Errorf("encoding kubernetes key: %w", err)
	}
	if p.User, err = newSSHKey("lab@" + req.Lab); err != nil {
		return nil, fmt.Errorf("generating SSH user key: %w", err)
	}
	for _, n := range req.Nodes {
		if p.HostKeys[n.Name], err = newSSHKey("root@" + n.Name); err != nil {
			return nil, fmt.Errorf("generating SSH host key of %s: %w", n.Name, err)
		}
	}
	return p, nil
}

// SANs lists the names and addresses the kubernetes certificate must carry
// for req: node names then ServiceNames; node addresses then 127.0.0.1.
func (req Request) SANs() (dns []string, ips []netip.Addr) {
	for _, n := range req.Nodes {
		dns = appendNew(dns, n.Name)
		ips = appendNew(ips, n.IP)
	}
	for _, name := range ServiceNames {
		dns = appendNew(dns, name)
	}
	return dns, appendNew(ips, Loopback)
}

func appendNew[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func (req Request) validate() error {
	var errs []error
	if req.Lab == "" {
		errs = append(errs, errors.New("the lab name is empty"))
	}
	if len(req.Nodes) == 0 {
		errs = append(errs, errors.New("no nodes"))
	}
	seen := map[string]bool{}
	for i, n := range req.Nodes {
		if !nodeNameRE.MatchString(n.Name) {
			errs = append(errs, fmt.Errorf("node %d: name %q is not a plain host name", i, n.Name))
		}
		if seen[n.Name] {
			errs = append(errs, fmt.Errorf("node %d: name %q repeated", i, n.Name))
		}
		seen[n.Name] = true
		if !n.IP.IsValid() {
			errs = append(errs, fmt.Errorf("node %d (%s): no IP address", i, n.Name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("generating PKI: invalid request: %w", err)
	}
	return nil
}

// sign creates the certificate tmpl signed by parent's key and returns it as
// PEM and parsed (the parsed form is the parent of the next certificate).
func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("drawing serial number: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert, nil
}

func pkcs8PEM(key crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// newSSHKey makes an ed25519 key pair; comment ends the public key line and
// is stored inside the OpenSSH private key.
func newSSHKey(comment string) (SSHKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SSHKey{}, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return SSHKey{}, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return SSHKey{}, err
	}
	return SSHKey{PrivatePEM: pem.EncodeToMemory(block), AuthorizedKey: authorizedKey(sshPub, comment)}, nil
}

// authorizedKey is "TYPE BASE64 comment\n".
func authorizedKey(pub ssh.PublicKey, comment string) []byte {
	line := ssh.MarshalAuthorizedKey(pub) // ends in "\n"
	line = line[:len(line)-1]
	if comment != "" {
		line = append(line, ' ')
		line = append(line, comment...)
	}
	return append(line, '\n')
}
