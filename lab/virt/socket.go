package virt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"path/filepath"

	"github.com/digitalocean/go-libvirt"
)

// Socket is a unix socket a local libvirt URI can be served on.
type Socket struct {
	Path string
	// Daemon says which daemon listens there: "modular virtqemud",
	// "monolithic libvirtd", or "from the URI" for ?socket=.
	Daemon string
}

// Daemons as Socket.Daemon names them.
const (
	DaemonModular    = "modular virtqemud"
	DaemonMonolithic = "monolithic libvirtd"
	DaemonFromURI    = "from the URI"
)

// Sockets lists the unix sockets that may serve a local URI, in the order
// Dial tries them: the one named by ?socket=, else the modular virtqemud's,
// then the monolithic libvirtd's. Dial takes the first that exists (the
// last when none does), so a caller that checks them in this order checks
// the socket Dial uses. getenv supplies XDG_RUNTIME_DIR and HOME for
// qemu:///session. Only qemu:///system and qemu:///session are local; an
// explicit transport (qemu+unix://) is refused like every other, as
// --connect refuses it: ?socket= names another socket.
func Sockets(uri string, getenv func(string) string) ([]Socket, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("parsing libvirt URI %q: %w", uri, err)
	}
	if err := checkLocal(u); err != nil {
		return nil, fmt.Errorf("libvirt URI %q: %w", uri, err)
	}
	named := u.Query().Get("socket")
	paths, err := sockets(u.Path, named, getenv)
	if err != nil {
		return nil, fmt.Errorf("libvirt URI %q: %w", uri, err)
	}
	if named != "" {
		return []Socket{{Path: paths[0], Daemon: DaemonFromURI}}, nil
	}
	out := make([]Socket, len(paths))
	for i, p := range paths {
		out[i] = Socket{Path: p, Daemon: DaemonMonolithic}
		if filepath.Base(p) == filepath.Base(modularSocket) {
			out[i].Daemon = DaemonModular
		}
	}
	return out, nil
}

// checkLocal refuses a URI that does not name a daemon on this machine
// through its default unix socket.
func checkLocal(u *url.URL) error {
	if u.Scheme != "qemu" || u.Host != "" {
		return errors.New("unsupported URI: use qemu:///system or qemu:///session for this machine (?socket=PATH for another socket), qemu+ssh://user@host/system for another")
	}
	return nil
}

// DialSocket connects to the daemon listening on the unix socket path and
// opens the local uri there, as Dial does on the socket it picks: lab
// doctor checks each socket of Sockets and talks to the one it found.
// Unlike Dial's, the connection lives only as long as ctx: go-libvirt's
// calls take no context, so closing the connection when ctx ends is what
// keeps a daemon that accepts and never answers from hanging the caller.
// Errors are explained as Dial's are; IsPermission tells a refusal.
func DialSocket(ctx context.Context, path, uri string) (*Provider, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("connecting to libvirt: parsing URI %q: %w", uri, err)
	}
	if err := checkLocal(u); err != nil {
		return nil, fmt.Errorf("connecting to libvirt at %q: %w", uri, err)
	}
	var conn net.Conn
	stop := func() bool { return false }
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(dctx, network, addr)
		if err == nil {
			conn, stop = c, context.AfterFunc(ctx, func() { c.Close() })
		}
		return c, err
	}
	l := libvirt.NewWithDialer(&ctxDialer{ctx: ctx, socket: path, dial: dial})
	daemon := (&url.URL{Scheme: u.Scheme, Path: u.Path}).String()
	if err := l.ConnectToURI(libvirt.ConnectURI(daemon)); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		if stop() {
			conn.Close()
		}
		return nil, fmt.Errorf("connecting to libvirt on %s: %w", path, explainDial(path, err))
	}
	return &Provider{c: l, close: func() error {
		stop()
		return l.Disconnect()
	}}, nil
}

// IsPermission reports whether err is a refusal: the socket's file mode,
// or the daemon's authentication or access control. The fix is then a
// matter of who runs lab, not of starting the daemon.
func IsPermission(err error) bool {
	return errors.Is(err, fs.ErrPermission) ||
		hasCode(err, libvirt.ErrAuthFailed, libvirt.ErrAuthCancelled, libvirt.ErrAuthUnavailable, libvirt.ErrAccessDenied)
}
