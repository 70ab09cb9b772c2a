package virt

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/digitalocean/go-libvirt"
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
