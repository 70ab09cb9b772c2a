package lab

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/kthw-lab/lab/lab/preflight"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/virt"
)

// DialFunc opens a connection to an address of the lab's network;
// net.Dialer.DialContext and tunnel.Tunnel.DialContext have this shape.
type DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// Host is the libvirt host labs run on: this machine, or a remote one
// reached through one SSH tunnel (--connect qemu+ssh://...) that carries
// both the libvirt stream and the connections to the guests, whose
// addresses exist only on that host's bridge. Nothing connects until it is
// needed: NewHost only reads the URI. Close it when done.
type Host struct {
	uri    string
	tunnel *tunnel.Tunnel // nil for this machine
	prov   *virt.Provider // dialed on first use
}

// NewHost reads a libvirt connection URI (see virt.Dial). A malformed
// qemu+ssh URI is an error naming what is wrong with it.
func NewHost(uri string) (*Host, error) {
	h := &Host{uri: uri}
	if !tunnel.IsRemote(uri) {
		return h, nil
	}
	t, err := tunnel.Parse(uri)
	if err != nil {
		return nil, err
	}
	h.tunnel = tunnel.New(t)
	return h, nil
}

// URI is the libvirt connection URI the host was made from.
func (h *Host) URI() string { return h.uri }

// Remote tells whether the host is another machine, reached over SSH.
func (h *Host) Remote() bool { return h.tunnel != nil }

// Dial is how the lab's guests are reached from here: through the tunnel
// on a remote host, directly on this one.
func (h *Host) Dial() DialFunc {
	if h.tunnel != nil {
		return h.tunnel.DialContext
	}
	return (&net.Dialer{}).DialContext
}

// Libvirt returns the connection to the host's libvirt daemon, made on
// the first call (through the tunnel on a remote host).
func (h *Host) Libvirt(ctx context.Context) (*virt.Provider, error) {
	if h.prov != nil {
		return h.prov, nil
	}
	p, err := virt.DialVia(ctx, h.uri, h.tunnel)
	if err != nil {
		return nil, err
	}
	h.prov = p
	return p, nil
}

// Limits returns the host's CPUs and memory, which bound the lab's size:
// this machine's from the kernel, a remote host's from its libvirt.
func (h *Host) Limits(ctx context.Context) (spec.HostLimits, error) {
	if h.tunnel == nil {
		return preflight.LocalHost()
	}
	p, err := h.Libvirt(ctx)
	if err != nil {
		return spec.HostLimits{}, err
	}
	cpus, mem, err := p.Size(ctx)
	if err != nil {
		return spec.HostLimits{}, err
	}
	return spec.HostLimits{CPUs: cpus, MemoryMiB: mem}, nil
}

// Prefixes lists the host's own networks (interfaces and routes) that a
// lab's subnet must not overlap: where the lab's bridge will be, on a
// remote host its routing table.
func (h *Host) Prefixes(ctx context.Context) ([]spec.NamedPrefix, error) {
	if h.tunnel == nil {
		return HostPrefixes()
	}
	return RemoteHostPrefixes(ctx, h.tunnel.Output)
}

// Close disconnects from libvirt and closes the tunnel, if either was
// made.
func (h *Host) Close() error {
	var errs []error
	if h.prov != nil {
		errs = append(errs, h.prov.Close())
		h.prov = nil
	}
	if h.tunnel != nil {
		errs = append(errs, h.tunnel.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing the connection to %s: %w", h.uri, err)
	}
	return nil
}
