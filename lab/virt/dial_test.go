package virt

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/digitalocean/go-libvirt"

	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/tunnel/tunneltest"
)

func TestSocketFor(t *testing.T) {
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/home/u"}
	tests := []struct {
		uri     string
		present []string
		want    string
		wantErr string
	}{
		{uri: "qemu:///system", want: "/var/run/libvirt/libvirt-sock"},
		{uri: "qemu:///system", present: []string{"/var/run/libvirt/virtqemud-sock"}, want: "/var/run/libvirt/virtqemud-sock"},
		{uri: "qemu:///session", want: "/run/user/1000/libvirt/libvirt-sock"},
		{uri: "qemu:///session", present: []string{"/run/user/1000/libvirt/virtqemud-sock"}, want: "/run/user/1000/libvirt/virtqemud-sock"},
		{uri: "qemu:///system?socket=/tmp/s", want: "/tmp/s"},
		{uri: "qemu+ssh://host/system", wantErr: "unsupported URI"},
		{uri: "xen:///system", wantErr: "unsupported URI"},
		{uri: "qemu:///embed", wantErr: `unsupported URI path "/embed"`},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		exists := func(p string) bool { return strings.Contains(strings.Join(tt.present, " "), p) }
		got, err := socketFor(u, func(k string) string { return env[k] }, exists)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %v: error %v, want %q", tt.uri, tt.present, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %v: %q, %v; want %q", tt.uri, tt.present, got, err, tt.want)
		}
	}
	u, _ := url.Parse("qemu:///session")
	if got, _ := socketFor(u, func(k string) string { return map[string]string{"HOME": "/home/u"}[k] }, func(string) bool { return false }); got != "/home/u/.cache/libvirt/libvirt-sock" {
		t.Errorf("session without XDG_RUNTIME_DIR: %q", got)
	}
}

func TestDialNoDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	_, err := Dial(t.Context(), "qemu:///system?socket="+sock)
	wantErr(t, err, fs.ErrNotExist, "libvirt is not running", sock, "scripts/host-setup.sh")

	// A socket file with nobody listening: connection refused.
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	_, err = Dial(t.Context(), "qemu:///system?socket="+sock)
	wantErr(t, err, syscall.ECONNREFUSED, "libvirt is not running", sock)
}

func TestExplainDialPermission(t *testing.T) {
	for _, cause := range []error{
		&net.OpError{Op: "dial", Net: "unix", Err: fmt.Errorf("connect: %w", syscall.EACCES)},
		libvirt.Error{Code: uint32(libvirt.ErrAuthFailed), Message: "authentication failed: polkit"},
	} {
		err := explainDial("/var/run/libvirt/libvirt-sock", cause)
		wantErr(t, err, nil, "permission denied on /var/run/libvirt/libvirt-sock", "run as root", "libvirt group")
		if !errors.Is(err, cause) {
			t.Errorf("cause %v not wrapped", cause)
		}
	}
	other := errors.New("something else")
	if explainDial("/s", other) != other {
		t.Error("unrelated error rewritten")
	}
}

func TestCloseWithoutDial(t *testing.T) {
	p, _ := newFake(t)
	if err := p.Close(); err != nil {
		t.Error(err)
	}
}

func TestDialRemote(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := tunneltest.Start(t)
	dir := t.TempDir()
	key, hosts := filepath.Join(dir, "id"), filepath.Join(dir, "known_hosts")
	srv.WriteClientKey(t, key)
	srv.WriteKnownHosts(t, hosts)
	uri := srv.URI("root", "/system", key, hosts)

	_, err := Dial(t.Context(), uri+"&socket="+filepath.Join(dir, "absent-sock"))
	wantErr(t, err, nil, "no libvirt daemon answers on 127.0.0.1 at "+filepath.Join(dir, "absent-sock"), "?socket=")

	_, err = Dial(t.Context(), "qemu+tls://127.0.0.1/system")
	wantErr(t, err, nil, "tls transport is not supported")

	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	_, err = Dial(t.Context(), srv.URI("root", "/system", key, empty))
	var hk *tunnel.HostKeyError
	if !errors.As(err, &hk) {
		t.Errorf("unknown host: %v, want a tunnel.HostKeyError", err)
	}

	// Discovery takes the first socket the tunnel opens, through the
	// tunnel the context carries.
	present := filepath.Join(dir, "libvirt-sock")
	l, err := net.Listen("unix", present)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	tg, err := tunnel.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	tun := tunnel.New(tg)
	defer tun.Close()
	got, err := reachable(t.Context(), tun, []string{filepath.Join(dir, "virtqemud-sock"), present})
	if err != nil || got != present {
		t.Errorf("reachable = %q, %v; want %q", got, err, present)
	}
	before := srv.Count(tunneltest.StreamLocal)
	// The socket answers but is no libvirtd: the RPC fails, after going
	// through the shared tunnel.
	if _, err := DialVia(t.Context(), uri+"&socket="+present, tun); err == nil {
		t.Error("Dial succeeded against a socket that closes")
	}
	if srv.Count(tunneltest.StreamLocal) <= before {
		t.Error("the remote dial did not go through the tunnel")
	}
	if err := tun.Open(t.Context()); err != nil {
		t.Errorf("DialVia closed the shared tunnel: %v", err)
	}
}

func TestSockets(t *testing.T) {
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/7"}
	got, err := sockets("/session", "", func(k string) string { return env[k] })
	want := []string{"/run/user/7/libvirt/virtqemud-sock", "/run/user/7/libvirt/libvirt-sock"}
	if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("sockets(/session) = %q, %v", got, err)
	}
	if got, _ := sockets("/system", "/s", nil); len(got) != 1 || got[0] != "/s" {
		t.Errorf("sockets with socket= = %q", got)
	}
}
