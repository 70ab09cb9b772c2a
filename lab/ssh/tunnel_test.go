package ssh

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/tunnel/tunneltest"
)

func TestDialWithConfigDialer(t *testing.T) {
	s := startServer(t)
	cfg := s.config()
	var dials atomic.Int32
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := dial(t, cfg)
	if out, _, err := c.Run(t.Context(), "echo hi"); err != nil || string(out) != "hi\n" {
		t.Errorf("Run = %q, %v", out, err)
	}
	if dials.Load() != 1 {
		t.Errorf("Config.Dial called %d times, want 1", dials.Load())
	}
}

// A node behind a remote libvirt host is reached through the tunnel the
// context carries.
func TestDialThroughContextTunnel(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	node := startServer(t)
	jump := tunneltest.Start(t)
	dir := t.TempDir()
	key, hosts := filepath.Join(dir, "id"), filepath.Join(dir, "known_hosts")
	jump.WriteClientKey(t, key)
	jump.WriteKnownHosts(t, hosts)
	tg, err := tunnel.Parse(jump.URI("root", "/system", key, hosts))
	if err != nil {
		t.Fatal(err)
	}
	tun := tunnel.New(tg)
	defer tun.Close()

	cfg := node.config()
	cfg.Dial = tun.DialContext
	c, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if out, _, err := c.Run(t.Context(), "echo hi"); err != nil || string(out) != "hi\n" {
		t.Errorf("Run = %q, %v", out, err)
	}
	if n := jump.Count(tunneltest.TCP); n != 1 {
		t.Errorf("the tunnel carried %d TCP channels, want 1", n)
	}
}
