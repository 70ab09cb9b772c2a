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
	"strings"
	"syscall"
	"time"

	"github.com/digitalocean/go-libvirt"

	"github.com/kthw-lab/lab/lab/tunnel"
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

// Dial connects to the libvirt daemon behind uri. Supported: qemu:///system
// and qemu:///session over the local unix socket, optionally with
// ?socket=PATH, and qemu+ssh://[user@]host[:port]/system (or /session) over
// an SSH tunnel (package tunnel; see tunnel.Parse for its options). For
// /system the modular daemon's socket (virtqemud-sock) is preferred when
// present, else the monolithic libvirtd's; on a remote host "present" means
// the tunnel can open it. A remote Dial makes its own tunnel, which Close
// closes; DialVia shares one.
func Dial(ctx context.Context, uri string) (*Provider, error) {
	return DialVia(ctx, uri, nil)
}

// DialVia is Dial over tun, an SSH tunnel to uri's host that the caller
// also uses for the guests and closes itself; nil (or a tunnel to another
// URI) makes Dial's own.
func DialVia(ctx context.Context, uri string, tun *tunnel.Tunnel) (*Provider, error) {
	if tunnel.IsRemote(uri) {
		return dialRemote(ctx, uri, tun)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt: parsing URI %q: %w", uri, err)
	}
	sock, err := socketFor(u, os.Getenv, exists)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt at %q: %w", uri, err)
	}
	l := libvirt.NewWithDialer(&ctxDialer{ctx: ctx, socket: sock, dial: (&net.Dialer{}).DialContext})
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
	if err := checkLocal(u); err != nil {
		return "", err
	}
	socks, err := sockets(u.Path, u.Query().Get("socket"), getenv)
	if err != nil {
		return "", err
	}
	for _, s := range socks[:len(socks)-1] {
		if exists(s) {
			return s, nil
		}
	}
	return socks[len(socks)-1], nil
}

// sockets lists the unix sockets that may serve the daemon of path
// ("/system" or "/session"), preferred first: the one named by socket=, or
// the modular virtqemud's, then the monolithic libvirtd's.
func sockets(path, socket string, getenv func(string) string) ([]string, error) {
	if socket != "" {
		return []string{socket}, nil
	}
	var dir string
	switch path {
	case "/system":
		dir = filepath.Dir(monolithicSocket)
	case "/session":
		if rt := getenv("XDG_RUNTIME_DIR"); rt != "" {
			dir = filepath.Join(rt, "libvirt")
		} else {
			dir = filepath.Join(getenv("HOME"), ".cache", "libvirt")
		}
	default:
		return nil, fmt.Errorf("unsupported URI path %q: want /system or /session", path)
	}
	return []string{filepath.Join(dir, "virtqemud-sock"), filepath.Join(dir, "libvirt-sock")}, nil
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
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dial implements socket.Dialer.
func (d *ctxDialer) Dial() (net.Conn, error) {
	ctx, cancel := context.WithTimeout(d.ctx, 15*time.Second)
	defer cancel()
	return d.dial(ctx, "unix", d.socket)
}

// dialRemote connects to the daemon of a qemu+ssh URI through an SSH
// tunnel: tun when it goes to the same URI, else its own.
func dialRemote(ctx context.Context, uri string, tun *tunnel.Tunnel) (*Provider, error) {
	tg, err := tunnel.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt: %w", err)
	}
	shared := tun != nil
	if !shared || tun.Target().URI != uri {
		tun, shared = tunnel.New(tg), false
	}
	fail := func(err error) (*Provider, error) {
		if !shared {
			tun.Close()
		}
		return nil, fmt.Errorf("connecting to libvirt at %q: %w", uri, err)
	}
	if err := tun.Open(ctx); err != nil {
		return fail(err)
	}
	getenv := func(string) string { return "" }
	if tg.Socket == "" && tg.Path == "/session" {
		env, err := tun.Getenv(ctx, "XDG_RUNTIME_DIR", "HOME")
		if err != nil {
			return fail(fmt.Errorf("finding the session daemon's socket (or name it with ?socket=): %w", err))
		}
		getenv = func(k string) string { return env[k] }
	}
	socks, err := sockets(tg.Path, tg.Socket, getenv)
	if err != nil {
		return fail(err)
	}
	sock, err := reachable(ctx, tun, socks)
	if err != nil {
		return fail(err)
	}
	l := libvirt.NewWithDialer(&ctxDialer{ctx: ctx, socket: sock, dial: tun.DialContext})
	if err := l.ConnectToURI(libvirt.ConnectURI(tg.LibvirtURI())); err != nil {
		if hasCode(err, libvirt.ErrAuthFailed, libvirt.ErrAuthCancelled, libvirt.ErrAuthUnavailable, libvirt.ErrAccessDenied) {
			err = fmt.Errorf("permission denied on %s:%s: log in as root, or as a member of the libvirt group there: %w", tg.Host, sock, err)
		}
		return fail(err)
	}
	close := l.Disconnect
	if !shared {
		close = func() error { return errors.Join(l.Disconnect(), tun.Close()) }
	}
	return &Provider{c: l, close: close}, nil
}

// reachable returns the first of socks the tunnel can open on the remote
// host.
func reachable(ctx context.Context, tun *tunnel.Tunnel, socks []string) (string, error) {
	var errs []error
	for _, s := range socks {
		c, err := tun.DialContext(ctx, "unix", s)
		if err == nil {
			c.Close()
			return s, nil
		}
		if ctx.Err() != nil {
			return "", err
		}
		errs = append(errs, err)
	}
	tg := tun.Target()
	return "", fmt.Errorf("no libvirt daemon answers on %s at %s: start it there (`systemctl start virtqemud.socket` or `libvirtd -d`), check that %s may open the socket (root, or the libvirt group), or name the socket with ?socket=: %w",
		tg.Host, strings.Join(socks, " or "), loginName(tg), errors.Join(errs...))
}

func loginName(tg tunnel.Target) string {
	if tg.User != "" {
		return tg.User
	}
	return "your login"
}
