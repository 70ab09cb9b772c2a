package virt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/digitalocean/go-libvirt"
)

// Provider creates, inspects and removes a lab's libvirt objects. Its
// methods check ctx before each libvirt call, so a cancelled context stops an
// operation between calls (the RPCs themselves cannot be interrupted).
type Provider struct {
	c     conn
	close func() error
}

// NewProvider returns a Provider over c: a *libvirt.Libvirt that is already
// connected, or a virttest.Fake in tests. Close does not disconnect c.
func NewProvider(c conn) *Provider {
	return &Provider{c: c}
}

// Dial connects to the libvirt daemon behind uri over its local unix socket.
// Supported: qemu:///system and qemu:///session, optionally with
// ?socket=PATH. For qemu:///system the modular daemon's socket
// (virtqemud-sock) is preferred when present, else the monolithic libvirtd's.
func Dial(ctx context.Context, uri string) (*Provider, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt: parsing URI %q: %w", uri, err)
	}
	sock, err := socketFor(u, os.Getenv, exists)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt at %q: %w", uri, err)
	}
	l := libvirt.NewWithDialer(&ctxDialer{ctx: ctx, socket: sock})
	remote := (&url.URL{Scheme: u.Scheme, Path: u.Path}).String()
	if err := l.ConnectToURI(libvirt.ConnectURI(remote)); err != nil {
		return nil, fmt.Errorf("connecting to libvirt at %q: %w", uri, explainDial(sock, err))
	}
	return &Provider{c: l, close: l.Disconnect}, nil
}

// Close disconnects from libvirt when Dial made the connection.
func (p *Provider) Close() error {
	if p.close == nil {
		return nil
	}
	if err := p.close(); err != nil {
		return fmt.Errorf("disconnecting from libvirt: %w", err)
	}
	return nil
}

// Socket paths of the system daemons.
const (
	modularSocket    = "/var/run/libvirt/virtqemud-sock"
	monolithicSocket = "/var/run/libvirt/libvirt-sock"
)

// socketFor picks the unix socket for a qemu:// URI. getenv and exists are
// parameters so the choice can be tested without the daemons.
func socketFor(u *url.URL, getenv func(string) string, exists func(string) bool) (string, error) {
	if u.Scheme != "qemu" || u.Host != "" {
		return "", fmt.Errorf("unsupported URI: only qemu:///system and qemu:///session over the local socket are supported")
	}
	if s := u.Query().Get("socket"); s != "" {
		return s, nil
	}
	var dir string
	switch u.Path {
	case "/system":
		dir = filepath.Dir(monolithicSocket)
	case "/session":
		if rt := getenv("XDG_RUNTIME_DIR"); rt != "" {
			dir = filepath.Join(rt, "libvirt")
		} else {
			dir = filepath.Join(getenv("HOME"), ".cache", "libvirt")
		}
	default:
		return "", fmt.Errorf("unsupported URI path %q: want /system or /session", u.Path)
	}
	if s := filepath.Join(dir, "virtqemud-sock"); exists(s) {
		return s, nil
	}
	return filepath.Join(dir, "libvirt-sock"), nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// explainDial turns the usual dial failures into what to do about them.
func explainDial(sock string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("libvirt is not running (no daemon at %s): start it with `sudo scripts/host-setup.sh` (or `virtlogd -d; libvirtd -d`): %w", sock, err)
	case errors.Is(err, fs.ErrPermission),
		hasCode(err, libvirt.ErrAuthFailed, libvirt.ErrAuthCancelled, libvirt.ErrAuthUnavailable, libvirt.ErrAccessDenied):
		return fmt.Errorf("permission denied on %s: run as root, or join the libvirt group (`sudo usermod -aG libvirt $USER`, then log in again): %w", sock, err)
	}
	return err
}

// ctxDialer dials the unix socket, honouring ctx while connecting.
type ctxDialer struct {
	ctx    context.Context
	socket string
}

// Dial implements socket.Dialer.
func (d *ctxDialer) Dial() (net.Conn, error) {
	var nd net.Dialer
	ctx, cancel := context.WithTimeout(d.ctx, 15*time.Second)
	defer cancel()
	return nd.DialContext(ctx, "unix", d.socket)
}
