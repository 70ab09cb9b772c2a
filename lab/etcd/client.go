package etcd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults for ClientConfig's timeouts. They are short because a node that
// does not answer within them is reported, not waited for: waiting is
// package wait's job.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
)

// ClientConfig says how to reach the cluster.
type ClientConfig struct {
	// Endpoints are client URLs, e.g. "https://192.168.199.200:2379".
	Endpoints []string
	// TLS holds the CA to trust and the client certificate to present; the
	// lab's members require one (--client-cert-auth).
	TLS *tls.Config
	// DialTimeout bounds connecting to an endpoint; DefaultDialTimeout if 0.
	DialTimeout time.Duration
	// RequestTimeout bounds each request that EndpointStatus, Health and
	// Quorum make, so one stuck member or a cluster without a leader fails a
	// check instead of hanging it; DefaultRequestTimeout if 0.
	RequestTimeout time.Duration
	// Dial opens the TCP connection to an endpoint's host:port (the
	// tunnel's, for the guests of a remote libvirt host: lab.Host.Dial);
	// nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c ClientConfig) dialTimeout() time.Duration {
	if c.DialTimeout > 0 {
		return c.DialTimeout
	}
	return DefaultDialTimeout
}

func (c ClientConfig) requestTimeout() time.Duration {
	if c.RequestTimeout > 0 {
		return c.RequestTimeout
	}
	return DefaultRequestTimeout
}

// Client talks to the lab's etcd cluster over mutual TLS. Close it when done.
type Client struct {
	cfg ClientConfig
	cli *clientv3.Client
}

// New connects to cfg's endpoints and returns once one of them accepted the
// connection, or fails after the dial timeout with the reason the last
// attempt gave (connection refused, a TLS certificate error). ctx bounds the
// attempt and the client's life: cancelling it also stops the client.
func New(ctx context.Context, cfg ClientConfig) (*Client, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, errors.New("connecting to etcd: no endpoints")
	}
	cli, err := newClientv3(ctx, cfg, cfg.Endpoints)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd at %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	return &Client{cfg: cfg, cli: cli}, nil
}

func newClientv3(ctx context.Context, cfg ClientConfig, endpoints []string) (*clientv3.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	cli, err := clientv3.New(clientv3.Config{
		Context:     ctx,
		Endpoints:   endpoints,
		TLS:         cfg.TLS,
		DialTimeout: cfg.dialTimeout(),
		DialOptions: []grpc.DialOption{
			grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
				return dial(ctx, "tcp", addr)
			}),
		},
		// clientv3 logs to stderr by default; library code must not print.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, err
	}
	if err := serving(ctx, cli, cfg.dialTimeout()); err != nil {
		cli.Close()
		return nil, err
	}
	return cli, nil
}

// serving returns once the client's connection answers a request, or
// after timeout with the cause the last attempt gave (connection refused,
// "remote error: tls: certificate required"). clientv3 connects lazily and
// its requests wait for a connection until their deadline, which then says
// only "context deadline exceeded"; a request that does not wait for
// readiness fails with gRPC's last connection error instead. This replaces
// the deprecated blocking dial (grpc.WithBlock, WithReturnConnectionError).
func serving(ctx context.Context, cli *clientv3.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m := pb.NewMaintenanceClient(cli.ActiveConnection())
	var last error
	for {
		_, err := m.Status(ctx, &pb.StatusRequest{}, grpc.WaitForReady(false))
		switch {
		case err == nil:
			return nil
		case status.Code(err) == codes.Unavailable:
			last = err // the connection failed: try again until timeout
		case last == nil || ctx.Err() == nil:
			return err
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close closes the client's connections.
func (c *Client) Close() error { return c.cli.Close() }

// V3 is the underlying clientv3 client, for callers that need more than this
// package offers (check perf's writes, watches).
func (c *Client) V3() *clientv3.Client { return c.cli }

// Endpoints are the endpoints the client was created with.
func (c *Client) Endpoints() []string { return append([]string(nil), c.cfg.Endpoints...) }

// MemberID is an etcd member ID. etcd and etcdctl show it in lowercase hex,
// and so do String and its JSON form.
type MemberID uint64

func (id MemberID) String() string { return strconv.FormatUint(uint64(id), 16) }

// MarshalText writes the ID in hex.
func (id MemberID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads a hex ID.
func (id *MemberID) UnmarshalText(b []byte) error {
	v, err := strconv.ParseUint(string(b), 16, 64)
	if err != nil {
		return fmt.Errorf("parsing member ID %q: %w", b, err)
	}
	*id = MemberID(v)
	return nil
}
