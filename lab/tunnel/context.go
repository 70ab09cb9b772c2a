package tunnel

import (
	"context"
	"net"
)

// DialFunc dials network and addr; net.Dialer.DialContext and
// Tunnel.DialContext have this shape.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

type ctxKey struct{}

// NewContext returns ctx carrying t: libraries that reach the lab's
// addresses find it there (Dialer), and lab/virt reuses it for libvirt.
func NewContext(ctx context.Context, t *Tunnel) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the tunnel ctx carries, if any.
func FromContext(ctx context.Context) (*Tunnel, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tunnel)
	return t, ok && t != nil
}

// Dialer returns how to reach the lab's addresses: through the tunnel ctx
// carries, else directly with a net.Dialer.
func Dialer(ctx context.Context) DialFunc {
	if t, ok := FromContext(ctx); ok {
		return t.DialContext
	}
	var d net.Dialer
	return d.DialContext
}
