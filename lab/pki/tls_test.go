package pki

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"testing"
	"time"
)

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
