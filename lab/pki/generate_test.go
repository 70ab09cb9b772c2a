package pki

import (
	"bytes"
	"crypto/x509"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"testing/cryptotest"
	"time"
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
