package pki

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"golang.org/x/crypto/ssh"
)

// Verify checks that p hangs together: the CA is a CA and its key matches,
// the kubernetes certificate chains to it for both server and client use and
// matches its key, and every SSH public key matches its private key.
func (p *PKI) Verify() error {
	var errs []error
	ca, err := p.CACert()
	if err != nil {
		return err
	}
	if !ca.IsCA {
		errs = append(errs, fmt.Errorf("%s is not a CA certificate", CACertFile))
	}
	if err := keyMatches(p.CAKeyPEM, ca.PublicKey); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", CAKeyFile, err))
	}
	cert, err := p.Cert()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if _, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
		errs = append(errs, fmt.Errorf("%s does not go with %s: %w", KeyFile, CertFile, err))
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := cert.Verify(x509.VerifyOptions{
			Roots: roots, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: cert.NotBefore.Add(time.Minute),
		}); err != nil {
			errs = append(errs, fmt.Errorf("verifying %s against %s: %w", CertFile, CACertFile, err))
		}
	}
	if err := sshKeyMatches(p.User); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", UserKeyFile, err))
	}
	for _, node := range p.nodes() {
		if err := sshKeyMatches(p.HostKeys[node]); err != nil {
			errs = append(errs, fmt.Errorf("host key of %s: %w", node, err))
		}
	}
	return errors.Join(errs...)
}

// Covers reports why p cannot serve req: a node without a host key, a node
// name or address missing from the certificate, or a certificate that has
// expired.
func (p *PKI) Covers(req Request) error {
	cert, err := p.Cert()
	if err != nil {
		return err
	}
	var errs []error
	if now := time.Now(); now.After(cert.NotAfter) {
		errs = append(errs, fmt.Errorf("%s expired on %s", CertFile, cert.NotAfter.Format(time.DateOnly)))
	}
	dns, ips := req.SANs()
	for _, name := range dns {
		if !slices.Contains(cert.DNSNames, name) {
			errs = append(errs, fmt.Errorf("%s does not name %s", CertFile, name))
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, func(c net.IP) bool { return c.Equal(net.IP(ip.AsSlice())) }) {
			errs = append(errs, fmt.Errorf("%s does not name %s", CertFile, ip))
		}
	}
	for _, n := range req.Nodes {
		if _, ok := p.HostKeys[n.Name]; !ok {
			errs = append(errs, fmt.Errorf("no SSH host key for %s", n.Name))
		}
	}
	return errors.Join(errs...)
}

// keyMatches parses a PKCS #8 PEM private key and checks it belongs to pub.
func keyMatches(keyPEM []byte, pub crypto.PublicKey) error {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return errors.New("no PEM block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%T is not a signing key", key)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := signer.Public().(equaler); !ok || !e.Equal(pub) {
		return errors.New("private key does not match the certificate")
	}
	return nil
}

// sshKeyMatches checks that k's private key parses and its public half is
// k.AuthorizedKey.
func sshKeyMatches(k SSHKey) error {
	signer, err := ssh.ParsePrivateKey(k.PrivatePEM)
	if err != nil {
		return fmt.Errorf("parsing private key: %w", err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(k.AuthorizedKey)
	if err != nil {
		return fmt.Errorf("parsing public key: %w", err)
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), pub.Marshal()) {
		return errors.New("public key does not match the private key")
	}
	return nil
}
