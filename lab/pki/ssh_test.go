package pki

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

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
