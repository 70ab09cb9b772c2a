package tunnel_test

import (
	"net"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh/agent"

	"github.com/kthw-lab/lab/lab/tunnel/tunneltest"
)

// startAgent serves an SSH agent holding the server's client key on a unix
// socket and returns the socket's path.
func startAgent(t *testing.T, srv *tunneltest.Server) string {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: tunneltest.PrivateKey(t, srv.ClientKey)}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); agent.ServeAgent(keyring, c) }()
		}
	}()
	return sock
}
