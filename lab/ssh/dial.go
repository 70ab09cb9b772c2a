package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	xssh "golang.org/x/crypto/ssh"
)

// DefaultTimeout bounds connecting and the SSH handshake when Config.Timeout
// is zero.
const DefaultTimeout = 10 * time.Second

// Config says how to reach one node.
type Config struct {
	// Name is the node's name used in messages ("k8smaster1"); Addr if empty.
	Name string
	// Addr is host:port, e.g. "192.168.199.201:22".
	Addr string
	// User is the remote login, e.g. "lab".
	User string
	// Signer is the lab's private key.
	Signer xssh.Signer
	// HostKey is the node's pinned public host key; the only one accepted.
	HostKey xssh.PublicKey
	// Timeout bounds the TCP connect and the handshake; DefaultTimeout if 0.
	Timeout time.Duration
	// Dial opens the TCP connection to Addr (the tunnel's, for the guests
	// of a remote libvirt host: lab.Host.Dial); nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c Config) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Addr
}

func (c Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("no address"))
	}
	if c.User == "" {
		errs = append(errs, errors.New("no user"))
	}
	if c.Signer == nil {
		errs = append(errs, errors.New("no client key"))
	}
	if c.HostKey == nil {
		errs = append(errs, errors.New("no pinned host key"))
	}
	return errors.Join(errs...)
}

// Client is an SSH connection to one node. Close it when done.
type Client struct {
	name string
	conn *xssh.Client
}

// Close closes the connection and every session on it.
func (c *Client) Close() error { return c.conn.Close() }

// Dial connects to cfg.Addr, accepts only cfg.HostKey and authenticates with
// cfg.Signer. Cancelling ctx aborts the connect and the handshake.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	name := cfg.name()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("dialing ssh %s: invalid config: %w", name, err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	fail := func(err error) error {
		return fmt.Errorf("dialing ssh %s (%s): %w", name, cfg.Addr, err)
	}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tcp, err := dial(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fail(err)
	}
	// x/crypto/ssh's handshake takes no context: closing the socket is what
	// unblocks it.
	stop := context.AfterFunc(ctx, func() { tcp.Close() })
	conn, chans, reqs, err := xssh.NewClientConn(tcp, cfg.Addr, &xssh.ClientConfig{
		User:              cfg.User,
		Auth:              []xssh.AuthMethod{xssh.PublicKeys(cfg.Signer)},
		HostKeyCallback:   pinned(name, cfg.HostKey),
		HostKeyAlgorithms: hostKeyAlgorithms(cfg.HostKey),
		Timeout:           timeout,
	})
	if !stop() {
		if err == nil {
			conn.Close()
		}
		if err == nil {
			return nil, fail(context.Cause(ctx))
		}
		// One line: progress prints the last error of a wait.
		return nil, fail(fmt.Errorf("%w (%w)", context.Cause(ctx), err))
	}
	if err != nil {
		tcp.Close()
		return nil, fail(err)
	}
	return &Client{name: name, conn: xssh.NewClient(conn, chans, reqs)}, nil
}

// HostKeyError is returned (wrapped) by Dial when the node presents a host
// key other than the pinned one.
type HostKeyError struct {
	Host      string
	Got, Want xssh.PublicKey
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("host key mismatch for %s: got %s, want %s",
		e.Host, xssh.FingerprintSHA256(e.Got), xssh.FingerprintSHA256(e.Want))
}

// pinned accepts exactly the key want, compared byte for byte.
func pinned(name string, want xssh.PublicKey) xssh.HostKeyCallback {
	wantBytes := want.Marshal()
	return func(_ string, _ net.Addr, got xssh.PublicKey) error {
		if bytes.Equal(got.Marshal(), wantBytes) {
			return nil
		}
		return &HostKeyError{Host: name, Got: got, Want: want}
	}
}

// hostKeyAlgorithms asks the server for the pinned key's type only. A node
// usually has several host keys (sshd generates RSA, ECDSA and Ed25519), and
// x/crypto/ssh prefers ECDSA, so without this a node holding the pinned
// Ed25519 key would present another one and look like an impostor.
func hostKeyAlgorithms(k xssh.PublicKey) []string {
	if k.Type() == xssh.KeyAlgoRSA {
		return []string{xssh.KeyAlgoRSASHA512, xssh.KeyAlgoRSASHA256, xssh.KeyAlgoRSA}
	}
	return []string{k.Type()}
}

// Bounds of DialRetry: a busy host (a laptop compiling beside three
// emulated guests) can stall one handshake past DefaultTimeout, and a
// second try a few seconds later usually gets through.
const (
	DefaultDialAttempts = 4
	dialBackoff         = 2 * time.Second
)

// DialRetry is Dial retried on transient failures (a timed-out or reset
// handshake, a refused connect), up to attempts times with a doubling pause.
// A wrong host key, a refused login and ctx's own end are final at once.
func DialRetry(ctx context.Context, cfg Config, attempts int) (*Client, error) {
	pause := dialBackoff
	for i := 1; ; i++ {
		c, err := Dial(ctx, cfg)
		if err == nil || i >= attempts || !Transient(err) || ctx.Err() != nil {
			if err != nil && i > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, i)
			}
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// Transient tells whether a Dial error may go away by itself: anything but
// a host key mismatch or a refused authentication.
func Transient(err error) bool {
	var hk *HostKeyError
	if errors.As(err, &hk) {
		return false
	}
	// x/crypto/ssh has no typed error for a refused login.
	return !strings.Contains(err.Error(), "unable to authenticate")
}
