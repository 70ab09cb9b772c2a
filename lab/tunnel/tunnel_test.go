package tunnel_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/tunnel/tunneltest"
)

// echo serves one line back on every connection to l.
func echo(t *testing.T, l net.Listener) {
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, "echo "+line)
			}()
		}
	}()
}

func roundTrip(t *testing.T, c net.Conn) string {
	t.Helper()
	defer c.Close()
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type fixture struct {
	srv             *tunneltest.Server
	dir, key, hosts string
}

func newFixture(t *testing.T) fixture {
	f := fixture{srv: tunneltest.Start(t), dir: t.TempDir()}
	f.key, f.hosts = filepath.Join(f.dir, "id"), filepath.Join(f.dir, "known_hosts")
	f.srv.WriteClientKey(t, f.key)
	f.srv.WriteKnownHosts(t, f.hosts)
	t.Setenv("SSH_AUTH_SOCK", "")
	return f
}

func (f fixture) open(t *testing.T, uri string) (*tunnel.Tunnel, error) {
	t.Helper()
	tg, err := tunnel.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	tun := tunnel.New(tg)
	t.Cleanup(func() { tun.Close() })
	return tun, tun.Open(t.Context())
}

func TestTunnelDials(t *testing.T) {
	f := newFixture(t)
	tun, err := f.open(t, f.srv.URI("root", "/system", f.key, f.hosts))
	if err != nil {
		t.Fatal(err)
	}

	sock := filepath.Join(f.dir, "libvirt-sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, ul)
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echo(t, tl)

	ctx := t.Context()
	for _, dial := range []struct{ network, addr string }{{"unix", sock}, {"tcp", tl.Addr().String()}} {
		c, err := tun.DialContext(ctx, dial.network, dial.addr)
		if err != nil {
			t.Fatalf("%s %s: %v", dial.network, dial.addr, err)
		}
		if got := roundTrip(t, c); got != "echo hello\n" {
			t.Errorf("%s: got %q", dial.network, got)
		}
	}
	if f.srv.Count(tunneltest.StreamLocal) != 1 || f.srv.Count(tunneltest.TCP) != 1 {
		t.Errorf("server carried %d streamlocal and %d tcp channels, want 1 and 1",
			f.srv.Count(tunneltest.StreamLocal), f.srv.Count(tunneltest.TCP))
	}

	_, err = tun.DialContext(t.Context(), "unix", filepath.Join(f.dir, "absent-sock"))
	if err == nil || !strings.Contains(err.Error(), "absent-sock") {
		t.Errorf("dialing a missing socket: %v", err)
	}

	env, err := tun.Getenv(t.Context(), "HOME", "LAB_TUNNEL_UNSET")
	if err != nil {
		t.Fatal(err)
	}
	if env["HOME"] != os.Getenv("HOME") || env["LAB_TUNNEL_UNSET"] != "" {
		t.Errorf("Getenv = %q", env)
	}

	// A dropped connection is made again on the next dial.
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := tun.DialContext(t.Context(), "tcp", tl.Addr().String())
	if err != nil {
		t.Fatalf("dial after close: %v", err)
	}
	roundTrip(t, c)
}

func TestTunnelRefuses(t *testing.T) {
	f := newFixture(t)
	other := tunneltest.Start(t) // another host key on the same address form
	mismatch := filepath.Join(f.dir, "mismatch")
	if err := os.WriteFile(mismatch, []byte(strings.Replace(other.KnownHostsLine(), other.Addr[strings.LastIndex(other.Addr, ":"):], f.srv.Addr[strings.LastIndex(f.srv.Addr, ":"):], 1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(f.dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	stranger := filepath.Join(f.dir, "stranger")
	tunneltest.WriteKey(t, stranger, tunneltest.NewKey(t))

	tests := []struct {
		name, key, hosts string
		want             []string
	}{
		{"unknown host", f.key, empty, []string{"is not in " + empty, "ssh-keyscan -p ", "SHA256:"}},
		{"changed host key", f.key, mismatch, []string{"HOST KEY MISMATCH", "ssh-keygen -R", mismatch + ":1"}},
		{"no known_hosts", f.key, filepath.Join(f.dir, "none"), []string{"does not exist", "ssh-keyscan"}},
		{"key not accepted", stranger, f.hosts, []string{"unable to authenticate", "ssh-copy-id -p", stranger}},
		{"no key file", filepath.Join(f.dir, "nokey"), f.hosts, []string{"no SSH key to log in with", "nokey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.open(t, f.srv.URI("root", "/system", tt.key, tt.hosts))
			if err == nil {
				t.Fatal("connected")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			var hk *tunnel.HostKeyError
			if strings.Contains(tt.name, "host") && tt.name != "no known_hosts" && !errors.As(err, &hk) {
				t.Errorf("not a HostKeyError: %T", err)
			}
		})
	}
	if f.srv.Count(tunneltest.TCP)+f.srv.Count(tunneltest.StreamLocal) != 0 {
		t.Error("a refused tunnel carried traffic")
	}
}

func TestTunnelAgent(t *testing.T) {
	f := newFixture(t)
	sock := startAgent(t, f.srv)
	t.Setenv("SSH_AUTH_SOCK", sock)
	t.Setenv("HOME", t.TempDir()) // no ~/.ssh keys: only the agent's
	uri := strings.Replace(f.srv.URI("root", "/system", "", f.hosts), "keyfile=&", "", 1)
	if _, err := f.open(t, uri); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCancelled(t *testing.T) {
	f := newFixture(t)
	tg, _ := tunnel.Parse(f.srv.URI("root", "/system", f.key, f.hosts))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := tunnel.New(tg).Open(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v", err)
	}
}
