package virt

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
)

func TestSocketsLabelsAndOrder(t *testing.T) {
	env := map[string]string{"HOME": "/home/ann"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		uri  string
		want []Socket
	}{
		{"qemu:///system", []Socket{
			{"/var/run/libvirt/virtqemud-sock", DaemonModular},
			{"/var/run/libvirt/libvirt-sock", DaemonMonolithic},
		}},
		{"qemu:///session", []Socket{
			{"/home/ann/.cache/libvirt/virtqemud-sock", DaemonModular},
			{"/home/ann/.cache/libvirt/libvirt-sock", DaemonMonolithic},
		}},
		{"qemu:///system?socket=/srv/sock", []Socket{{"/srv/sock", DaemonFromURI}}},
	}
	for _, tt := range tests {
		got, err := Sockets(tt.uri, getenv)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Sockets(%s) = %v, %v; want %v", tt.uri, got, err, tt.want)
		}
	}
}

// TestSocketsAgreeWithDial: whatever exists, the first existing socket of
// Sockets (the last when none does) is the one Dial connects to, so the
// doctor checks the socket lab uses.
func TestSocketsAgreeWithDial(t *testing.T) {
	env := map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}
	getenv := func(k string) string { return env[k] }
	for _, uri := range []string{"qemu:///system", "qemu:///session", "qemu:///system?socket=/srv/s"} {
		socks, err := Sockets(uri, getenv)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(uri)
		for mask := range 1 << len(socks) {
			exists := func(p string) bool {
				i := slices.IndexFunc(socks, func(s Socket) bool { return s.Path == p })
				return i >= 0 && mask&(1<<i) != 0
			}
			want := socks[len(socks)-1].Path
			for _, s := range socks {
				if exists(s.Path) {
					want = s.Path
					break
				}
			}
			got, err := socketFor(u, getenv, exists)
			if err != nil || got != want {
				t.Errorf("%s, present %b: Dial's socket %q (%v), the first present of Sockets %q", uri, mask, got, err, want)
			}
		}
	}
}

// TestUnixTransportRefused: qemu+unix:// is refused by discovery, by
// DialSocket and by Dial, each naming what to write instead, before
// anything is dialled.
func TestUnixTransportRefused(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	uri := "qemu+unix:///system?socket=" + sock
	_, err := Sockets(uri, nil)
	wantErr(t, err, nil, "unsupported URI", "qemu:///system", "?socket=PATH")
	_, err = DialSocket(t.Context(), sock, uri)
	wantErr(t, err, nil, "unsupported URI", "qemu:///system", "?socket=PATH")
	_, err = Dial(t.Context(), uri)
	wantErr(t, err, nil, "transport is not supported")
	for _, bad := range []string{"qemu+ssh://host/system", "xen:///system", "qemu://host/system"} {
		if _, err := Sockets(bad, nil); err == nil {
			t.Errorf("Sockets(%s) accepted a URI that is not local", bad)
		}
	}
	_, err = Sockets("qemu:///embed", nil)
	wantErr(t, err, nil, `unsupported URI path "/embed"`)
}

func TestDialSocketNoDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	_, err := DialSocket(t.Context(), sock, "qemu:///system")
	wantErr(t, err, fs.ErrNotExist, "libvirt is not running", sock)

	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	_, err = DialSocket(t.Context(), sock, "qemu:///system")
	wantErr(t, err, syscall.ECONNREFUSED, "libvirt is not running", sock)
}

// TestDialSocketSilentDaemon: a daemon that accepts and never answers
// holds DialSocket only until the context ends.
func TestDialSocketSilentDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "libvirt-sock")
	l, err := net.Listen("unix", sock)
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
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = DialSocket(ctx, sock, "qemu:///system")
	wantErr(t, err, context.DeadlineExceeded, sock)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("DialSocket took %s past a 200ms deadline", d)
	}
}

func TestIsPermission(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dial: %w", syscall.EACCES), true},
		{fmt.Errorf("connecting: %w", libvirt.Error{Code: uint32(libvirt.ErrAuthFailed)}), true},
		{libvirt.Error{Code: uint32(libvirt.ErrAccessDenied)}, true},
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false},
		{libvirt.Error{Code: uint32(libvirt.ErrInternalError)}, false},
	} {
		if got := IsPermission(tt.err); got != tt.want {
			t.Errorf("IsPermission(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
