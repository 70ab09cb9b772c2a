package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// ConnectTimeout bounds the TCP connect and the SSH handshake.
const ConnectTimeout = 20 * time.Second

// KeepaliveInterval is how often an idle tunnel asks the server for a
// reply (as OpenSSH's ServerAliveInterval), so that a scenario's long
// observation does not lose the connection to a NAT or firewall timeout.
const KeepaliveInterval = 30 * time.Second

// Tunnel is one SSH connection to a remote libvirt host, made on first use
// and remade when it drops. It is safe for concurrent use.
type Tunnel struct {
	target Target
	local  local

	mu     sync.Mutex
	client *ssh.Client
}

// local is what the tunnel takes from this machine: tests replace it.
type local struct {
	user      string // the login when the URI names none
	home      string // for ~/.ssh and ~/ in keyfile= and known_hosts=
	agentSock string // $SSH_AUTH_SOCK
}

// New returns a tunnel to t. It does not connect: Open, DialContext and
// Getenv do, once.
func New(t Target) *Tunnel {
	l := local{agentSock: os.Getenv("SSH_AUTH_SOCK")}
	l.home, _ = os.UserHomeDir()
	if u, err := user.Current(); err == nil {
		l.user = u.Username
	} else {
		l.user = os.Getenv("USER")
	}
	return &Tunnel{target: t, local: l}
}

// Target is where the tunnel goes.
func (t *Tunnel) Target() Target { return t.target }

// Open connects and authenticates now, unless the tunnel is already up.
func (t *Tunnel) Open(ctx context.Context) error {
	_, err := t.conn(ctx)
	return err
}

// conn returns the SSH client, connecting when there is none.
func (t *Tunnel) conn(ctx context.Context) (*ssh.Client, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.client != nil {
		return t.client, nil
	}
	c, err := t.connect(ctx)
	if err != nil {
		return nil, err
	}
	t.client = c
	go keepalive(c)
	// A dropped connection is forgotten, so the next dial makes a new one.
	go func() {
		_ = c.Wait()
		t.mu.Lock()
		if t.client == c {
			t.client = nil
		}
		t.mu.Unlock()
	}()
	return c, nil
}

// keepalive sends OpenSSH's keepalive request until the connection ends;
// servers answer it, even if only to refuse it.
func keepalive(c *ssh.Client) {
	tick := time.NewTicker(KeepaliveInterval)
	defer tick.Stop()
	for range tick.C {
		if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
			return
		}
	}
}

func (t *Tunnel) connect(ctx context.Context) (*ssh.Client, error) {
	tg := t.target
	fail := func(err error) error {
		return fmt.Errorf("connecting to %s over ssh: %w", tg.Addr(), err)
	}
	login := tg.User
	if login == "" {
		login = t.local.user
	}
	hostKeys, algos, err := t.hostKeys()
	if err != nil {
		return nil, fail(err)
	}
	auth, tried, closeAgent, err := t.auth()
	if err != nil {
		return nil, fail(err)
	}
	defer closeAgent()

	ctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	var d net.Dialer
	tcp, err := d.DialContext(ctx, "tcp", tg.Addr())
	if err != nil {
		return nil, fail(err)
	}
	// The handshake takes no context: closing the socket unblocks it.
	stop := context.AfterFunc(ctx, func() { tcp.Close() })
	cc, chans, reqs, err := ssh.NewClientConn(tcp, tg.Addr(), &ssh.ClientConfig{
		User:              login,
		Auth:              auth,
		HostKeyCallback:   hostKeys,
		HostKeyAlgorithms: algos,
		Timeout:           ConnectTimeout,
	})
	if !stop() {
		if err == nil {
			cc.Close()
		}
		return nil, fail(errors.Join(context.Cause(ctx), err))
	}
	if err != nil {
		tcp.Close()
		var hk *HostKeyError
		if !errors.As(err, &hk) && strings.Contains(err.Error(), "unable to authenticate") {
			err = fmt.Errorf("%w\n%s refused %s as %s: put your public key into ~%s/.ssh/authorized_keys there (`ssh-copy-id -p %d %s@%s`), load it into the agent (`ssh-add`), or name it with keyfile=",
				err, tg.Host, strings.Join(tried, " and "), login, login, tg.Port, login, tg.Host)
		}
		return nil, fail(err)
	}
	return ssh.NewClient(cc, chans, reqs), nil
}

// DialContext connects to addr as seen from the remote host: "tcp" (also
// tcp4, tcp6) through a direct-tcpip channel, "unix" through OpenSSH's
// direct-streamlocal channel. It has the shape of net.Dialer.DialContext.
func (t *Tunnel) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	conn, err := c.DialContext(ctx, network, addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s %s through the ssh tunnel to %s: %w", network, addr, t.target.Host, err)
	}
	return conn, nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Getenv returns the remote login's environment variables names, as a
// non-interactive ssh session sees them; unset ones are "".
func (t *Tunnel) Getenv(ctx context.Context, names ...string) (map[string]string, error) {
	var cmd strings.Builder
	cmd.WriteString(`printf '%s\0'`)
	for _, n := range names {
		if !envName.MatchString(n) {
			return nil, fmt.Errorf("reading the remote environment: %q is not a variable name", n)
		}
		fmt.Fprintf(&cmd, ` "$%s"`, n)
	}
	out, err := t.Output(ctx, cmd.String())
	if err != nil {
		return nil, fmt.Errorf("reading the environment: %w", err)
	}
	vals := bytes.Split(out, []byte{0})
	env := make(map[string]string, len(names))
	for i, n := range names {
		if i < len(vals) {
			env[n] = string(vals[i])
		}
	}
	return env, nil
}

// Output runs cmd on the remote host (its login shell, as ssh HOST CMD
// does) and returns its standard output.
func (t *Tunnel) Output(ctx context.Context, cmd string) ([]byte, error) {
	c, err := t.conn(ctx)
	if err != nil {
		return nil, err
	}
	s, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("running %q on %s: %w", cmd, t.target.Host, err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	out, err := s.Output(cmd)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf("running %q on %s: %w", cmd, t.target.Host, err)
	}
	return out, nil
}

// Close closes the SSH connection and every channel on it.
func (t *Tunnel) Close() error {
	t.mu.Lock()
	c := t.client
	t.client = nil
	t.mu.Unlock()
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("closing the ssh tunnel to %s: %w", t.target.Host, err)
	}
	return nil
}

// expand resolves a leading ~/ against the local home directory.
func (t *Tunnel) expand(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(t.local.home, rest)
	}
	return p
}
