// Package tunneltest is an in-process SSH server for tests of remote
// connections: it accepts one client key, and serves the channels the lab's
// tunnel opens (direct-tcpip, direct-streamlocal@openssh.com, and exec
// sessions) from this machine, counting them.
package tunneltest

import (
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Channel types the server serves.
const (
	TCP         = "direct-tcpip"
	StreamLocal = "direct-streamlocal@openssh.com"
	Session     = "session"
)

// Server is a running SSH server on 127.0.0.1. It stops when the test ends.
type Server struct {
	// Addr is host:port.
	Addr string
	// HostKey is the server's key; ClientKey the only one it accepts.
	HostKey, ClientKey ssh.Signer

	mu     sync.Mutex
	counts map[string]int
}

// Start starts a server with fresh Ed25519 host and client keys.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{HostKey: newSigner(t), ClientKey: newSigner(t), counts: map[string]int{}}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(s.ClientKey.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(s.HostKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c, cfg) })
		}
	})
	return s
}

func newSigner(t testing.TB) ssh.Signer {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	signerKeys.Store(s, priv)
	return s
}

// Count is how many channels of type kind the server has accepted.
func (s *Server) Count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[kind]
}

// KnownHostsLine is the server's entry for a known_hosts file.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey.PublicKey())
}

// WriteKnownHosts writes a known_hosts file holding the server's key.
func (s *Server) WriteKnownHosts(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// WriteClientKey writes the accepted client key as an OpenSSH private key
// file.
func (s *Server) WriteClientKey(t testing.TB, path string) {
	t.Helper()
	WriteKey(t, path, s.ClientKey)
}

// WriteKey writes signer's private key (made by this package) to path.
func WriteKey(t testing.TB, path string, signer ssh.Signer) {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(PrivateKey(t, signer), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

// PrivateKey returns the private key of signer (made by this package).
func PrivateKey(t testing.TB, signer ssh.Signer) ed25519.PrivateKey {
	t.Helper()
	priv, ok := signerKeys.Load(signer)
	if !ok {
		t.Fatal("tunneltest: not a key made by this package")
	}
	return priv.(ed25519.PrivateKey)
}

// NewKey returns a fresh Ed25519 key that WriteKey can write.
func NewKey(t testing.TB) ssh.Signer { return newSigner(t) }

var signerKeys sync.Map // ssh.Signer -> ed25519.PrivateKey

func (s *Server) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	sc, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		wg.Go(func() { s.channel(nc) })
	}
}

func (s *Server) channel(nc ssh.NewChannel) {
	var target, network string
	switch nc.ChannelType() {
	case TCP:
		var m struct {
			Host       string
			Port       uint32
			OriginHost string
			OriginPort uint32
		}
		if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
			nc.Reject(ssh.ConnectionFailed, err.Error())
			return
		}
		network, target = "tcp", net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
	case StreamLocal:
		var m struct {
			Path      string
			Reserved0 string
			Reserved1 uint32
		}
		if err := ssh.Unmarshal(nc.ExtraData(), &m); err != nil {
			nc.Reject(ssh.ConnectionFailed, err.Error())
			return
		}
		network, target = "unix", m.Path
	case Session:
		s.session(nc)
		return
	default:
		nc.Reject(ssh.UnknownChannelType, nc.ChannelType())
		return
	}
	up, err := net.Dial(network, target)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	defer up.Close()
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	s.count(nc.ChannelType())
	go ssh.DiscardRequests(reqs)
	done := make(chan struct{}, 2)
	go func() { io.Copy(ch, up); ch.CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(up, ch); closeWrite(up); done <- struct{}{} }()
	<-done
	<-done
	ch.Close()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

func (s *Server) count(kind string) {
	s.mu.Lock()
	s.counts[kind]++
	s.mu.Unlock()
}

// session serves one "exec" request with sh -c on this machine.
func (s *Server) session(nc ssh.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	s.count(Session)
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var m struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &m); err != nil {
			req.Reply(false, nil)
			return
		}
		req.Reply(true, nil)
		cmd := exec.Command("sh", "-c", m.Command)
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		status := 0
		if err := cmd.Run(); err != nil {
			status = 255
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				if ws, ok := exit.Sys().(syscall.WaitStatus); ok {
					status = ws.ExitStatus()
				}
			}
		}
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
		return
	}
}

// URI is a qemu+ssh URI for this server with the given key and known_hosts
// files.
func (s *Server) URI(user, path, keyFile, knownHosts string) string {
	return fmt.Sprintf("qemu+ssh://%s@%s%s?keyfile=%s&known_hosts=%s", user, s.Addr, path, keyFile, knownHosts)
}
