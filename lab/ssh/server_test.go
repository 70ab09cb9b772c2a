package ssh

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	xssh "golang.org/x/crypto/ssh"
)

// testServer is an in-process SSH server on loopback that accepts one user
// key and understands a few commands:
//
//	true        exit 0
//	echo WORDS  print WORDS, exit 0
//	exit N      print "failing" to stderr, exit N
//	sleep       block until the session is closed or signalled
//	cat         copy stdin to stdout, exit 0
//
// A shell echoes its stdin to stdout and exits 0; on a terminal it calls
// onShell and exits 0 without reading.
type testServer struct {
	Addr     string
	HostKeys []xssh.Signer // Ed25519 first, then ECDSA
	UserKey  xssh.Signer

	mu      sync.Mutex
	onShell func() // runs when a shell starts on a terminal, which then exits 0
	ptys    []ptyRequest
	signals []string
	started chan string // commands as they start
	ended   chan string // commands whose session went away
}

type ptyRequest struct {
	Term          string
	Columns, Rows uint32
	Width, Height uint32
	Modes         string
}

func newSigner(t *testing.T, kind string) xssh.Signer {
	t.Helper()
	var key any
	switch kind {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	case "ecdsa":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key = k
	}
	s, err := xssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{
		HostKeys: []xssh.Signer{newSigner(t, "ed25519"), newSigner(t, "ecdsa")},
		UserKey:  newSigner(t, "ed25519"),
		started:  make(chan string, 16),
		ended:    make(chan string, 16),
	}
	cfg := &xssh.ServerConfig{
		PublicKeyCallback: func(meta xssh.ConnMetadata, key xssh.PublicKey) (*xssh.Permissions, error) {
			if meta.User() == "lab" && bytes.Equal(key.Marshal(), s.UserKey.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("unknown key for %s", meta.User())
		},
	}
	for _, k := range s.HostKeys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s.Addr = l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c, cfg)
		}
	}()
	return s
}

func (s *testServer) serve(c net.Conn, cfg *xssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := xssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go xssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(xssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			return
		}
		go s.session(ch, reqs)
	}
}

func (s *testServer) session(ch xssh.Channel, reqs <-chan *xssh.Request) {
	defer ch.Close()
	cmd := ""
	defer func() { notify(s.ended, cmd) }()
	tty := false
	signalled := make(chan struct{})
	closed := make(chan struct{})
	result := make(chan uint32, 1)
	for {
		var req *xssh.Request
		select {
		case st := <-result:
			sendExit(ch, st)
			return
		case r, ok := <-reqs:
			if !ok {
				close(closed)
				return
			}
			req = r
		}
		switch req.Type {
		case "pty-req":
			var p ptyRequest
			if err := xssh.Unmarshal(req.Payload, &p); err == nil {
				s.mu.Lock()
				s.ptys = append(s.ptys, p)
				s.mu.Unlock()
			}
			tty = true
			req.Reply(true, nil)
		case "signal":
			var sig struct{ Name string }
			xssh.Unmarshal(req.Payload, &sig)
			s.mu.Lock()
			s.signals = append(s.signals, sig.Name)
			s.mu.Unlock()
			close(signalled)
		case "shell":
			req.Reply(true, nil)
			cmd = "shell"
			s.mu.Lock()
			hook := s.onShell
			s.mu.Unlock()
			go func() {
				if tty && hook != nil {
					hook()
				} else {
					io.Copy(ch, ch)
				}
				result <- 0
			}()
		case "exec":
			var e struct{ Command string }
			xssh.Unmarshal(req.Payload, &e)
			req.Reply(true, nil)
			cmd = e.Command
			notify(s.started, cmd)
			go func() { result <- s.run(ch, cmd, signalled, closed) }()
		default:
			req.Reply(false, nil)
		}
	}
}

func (s *testServer) run(ch xssh.Channel, cmd string, signalled, closed <-chan struct{}) uint32 {
	name, arg, _ := strings.Cut(cmd, " ")
	switch name {
	case "true":
		return 0
	case "echo":
		fmt.Fprintln(ch, arg)
		return 0
	case "exit":
		n, _ := strconv.Atoi(arg)
		fmt.Fprintln(ch.Stderr(), "failing")
		return uint32(n)
	case "cat":
		io.Copy(ch, ch)
		return 0
	case "sleep":
		select {
		case <-signalled:
		case <-closed:
		}
		return 137
	}
	fmt.Fprintf(ch.Stderr(), "%s: command not found\n", name)
	return 127
}

// notify sends without blocking: the test reads these channels only when it
// cares, and a full one must not wedge the server.
func notify(c chan<- string, cmd string) {
	select {
	case c <- cmd:
	default:
	}
}

func sendExit(ch xssh.Channel, status uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], status)
	ch.SendRequest("exit-status", false, b[:])
}

// config is a client Config for this server pinning its Ed25519 host key.
func (s *testServer) config() Config {
	return Config{Name: "k8smaster1", Addr: s.Addr, User: "lab", Signer: s.UserKey, HostKey: s.HostKeys[0].PublicKey()}
}

// startSilentListener accepts connections and never answers.
func startSilentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}
