package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// Lab is one lab, opened: what it is (its State), where it keeps its
// files (Store), the libvirt host it runs on, its keys, and how its guests
// are reached. Every operation on an existing lab is a method of it, so a
// caller opens the lab once and hands nothing else around.
type Lab struct {
	State *State
	Store Store
	// Progress receives the lines of long steps; progress.Discard when nil.
	Progress *progress.Printer

	host *Host
	keys *pki.PKI
	// keysErr is why the keys could not be loaded (an interrupted create
	// may have none yet): returned by what needs them, while status and
	// export still show the rest.
	keysErr error
	// conns keeps one SSH connection per node for RunAsRoot and its kin:
	// a scenario runs a dozen commands per node and arm, and a handshake
	// costs a guest under emulation a second or two.
	conns labssh.Pool
}

// Close closes the connections the lab keeps to its nodes; a program that
// exits need not call it.
func (l *Lab) Close() error { return l.conns.Close() }

// Open reads the lab in store (its state and keys) on host. A lab that
// does not exist is fs.ErrNotExist, with how to create it. Closing the
// host is the caller's: several labs may share it.
func Open(store Store, host *Host) (*Lab, error) {
	st, err := store.Load()
	if err != nil {
		return nil, err
	}
	return open(st, store, host), nil
}

// open is the handle on a lab whose state is in memory: Create's, before
// it is ready.
func open(st *State, store Store, host *Host) *Lab {
	l := &Lab{State: st, Store: store, host: host}
	l.keys, l.keysErr = pki.Load(store.PKIDir())
	return l
}

// Name is the lab's name.
func (l *Lab) Name() string { return l.State.Name }

// Host is the libvirt host the lab runs on.
func (l *Lab) Host() *Host { return l.host }

// Libvirt is the connection to the lab's libvirt daemon (see Host.Libvirt).
func (l *Lab) Libvirt(ctx context.Context) (*virt.Provider, error) {
	return l.host.Libvirt(ctx)
}

func (l *Lab) progress() *progress.Printer {
	if l.Progress == nil {
		return progress.Discard
	}
	return l.Progress
}

// Keys are the lab's CA, certificates and SSH keys.
func (l *Lab) Keys() (*pki.PKI, error) {
	if l.keysErr != nil {
		return nil, fmt.Errorf("loading the keys of lab %s: %w", l.State.Name, l.keysErr)
	}
	return l.keys, nil
}

// Node returns the node of that name (or domain name).
func (l *Lab) Node(name string) (spec.Node, error) {
	nodes, err := l.State.Nodes([]string{name})
	if err != nil {
		return spec.Node{}, err
	}
	return nodes[0], nil
}

// SSHConfig is how the host reaches node n: as the lab user, with the lab's
// key, accepting only the node's pinned host key, through the host's
// dialer.
func (l *Lab) SSHConfig(n spec.Node) (labssh.Config, error) {
	keys, err := l.Keys()
	if err != nil {
		return labssh.Config{}, err
	}
	signer, err := keys.SSHSigner()
	if err != nil {
		return labssh.Config{}, err
	}
	hostKey := keys.HostKey(n.Name)
	if hostKey == nil {
		return labssh.Config{}, fmt.Errorf("the lab's PKI has no host key for %s", n.Name)
	}
	return labssh.Config{Name: n.Name, Addr: net.JoinHostPort(n.IP.String(), "22"), User: User, Signer: signer,
		HostKey: hostKey, Dial: l.host.Dial()}, nil
}

// SSH logs in to node n, retrying a dial that fails transiently (a
// handshake that times out on a busy host); a wrong host key or a refused
// login fails at once. Close the client when done.
func (l *Lab) SSH(ctx context.Context, n spec.Node) (*labssh.Client, error) {
	cfg, err := l.SSHConfig(n)
	if err != nil {
		return nil, err
	}
	return labssh.DialRetry(ctx, cfg, labssh.DefaultDialAttempts)
}

// RunAsRoot runs a shell script on node n with sudo and returns its output.
func (l *Lab) RunAsRoot(ctx context.Context, n spec.Node, script string) (string, error) {
	return l.RunAsRootInput(ctx, n, script, nil)
}

// RunAsRootInput is RunAsRoot with stdin as the script's standard input
// (a file to install, for example).
func (l *Lab) RunAsRootInput(ctx context.Context, n spec.Node, script string, stdin io.Reader) (string, error) {
	var out []byte
	err := l.withConn(ctx, n, func(c *labssh.Client) (err error) {
		out, _, err = c.RunInput(ctx, guest.AsRoot(script), stdin)
		return err
	})
	return string(out), err
}

// withConn runs f on the lab's kept connection to n. Dialing is retried
// (nothing ran yet); f is not (running twice may not be harmless). A
// connection that failed other than by a command's exit status is dropped,
// so the next call dials afresh.
func (l *Lab) withConn(ctx context.Context, n spec.Node, f func(*labssh.Client) error) error {
	cfg, err := l.SSHConfig(n)
	if err != nil {
		return err
	}
	c, err := l.conns.Get(ctx, cfg, labssh.DefaultDialAttempts)
	if err != nil {
		return err
	}
	err = f(c)
	if labssh.Broken(err) {
		l.conns.Drop(c)
	}
	return err
}

// EtcdConfig is how the host reaches the lab's etcd: every member's client
// URL, with the lab's CA and client certificate (mutual TLS), through the
// host's dialer.
func (l *Lab) EtcdConfig() (etcd.ClientConfig, error) {
	keys, err := l.Keys()
	if err != nil {
		return etcd.ClientConfig{}, err
	}
	tlsCfg, err := keys.ClientTLS()
	if err != nil {
		return etcd.ClientConfig{}, err
	}
	return etcd.ClientConfig{Endpoints: l.State.Plan.Etcd.Endpoints, TLS: tlsCfg, Dial: l.host.Dial()}, nil
}

// EtcdClient connects to the lab's cluster over mutual TLS with its keys.
// Close it when done.
func (l *Lab) EtcdClient(ctx context.Context) (*etcd.Client, error) {
	cfg, err := l.EtcdConfig()
	if err != nil {
		return nil, err
	}
	return etcd.New(ctx, cfg)
}

// Members lists the lab's etcd members, as `etcdctl member list` does.
func (l *Lab) Members(ctx context.Context) (etcd.MemberList, error) {
	c, err := l.EtcdClient(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.Members(ctx)
}

// EtcdctlEnv are the ETCDCTL_* variables that point the real etcdctl at
// the lab's cluster, with its certificates (mutual TLS), in order.
func (l *Lab) EtcdctlEnv() [][2]string {
	dir := l.Store.PKIDir()
	return [][2]string{
		{"ETCDCTL_API", "3"},
		{"ETCDCTL_ENDPOINTS", strings.Join(l.State.Plan.Etcd.Endpoints, ",")},
		{"ETCDCTL_CACERT", filepath.Join(dir, pki.CACertFile)},
		{"ETCDCTL_CERT", filepath.Join(dir, pki.CertFile)},
		{"ETCDCTL_KEY", filepath.Join(dir, pki.KeyFile)},
	}
}

// RemoteExitStatus is the exit status of a command that ran on a node and
// exited non-zero, or 0 when err is no such exit (nil, a failed dial, a
// signal).
func RemoteExitStatus(err error) int {
	if re, ok := errors.AsType[*labssh.RemoteError](err); ok && re.ExitStatus > 0 {
		return re.ExitStatus
	}
	return 0
}
