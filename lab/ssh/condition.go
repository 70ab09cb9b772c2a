package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/kthw-lab/lab/lab/wait"
)

// Condition, named name, holds once the node accepts a connection with the
// pinned host key and check, given that connection, returns nil. A
// different host key ends the wait at once, as does an error that check
// marks wait.Permanent.
func Condition(cfg Config, name string, check func(context.Context, *Client) error) wait.Condition {
	return wait.Condition{
		Name: name,
		Check: func(ctx context.Context) error {
			c, err := Dial(ctx, cfg)
			if hk, ok := errors.AsType[*HostKeyError](err); ok {
				// Never retried: the lab's images carry no host keys of
				// their own and cloud-init installs the pinned one before
				// sshd starts, so another key is someone else.
				return wait.Permanent(hk)
			}
			if err != nil {
				return err
			}
			defer c.Close()
			return check(ctx, c)
		},
	}
}

// WriteKnownHosts writes an OpenSSH known_hosts file pinning each address
// ("192.168.199.201" or "host:port") to its key, sorted by address, so plain
// `ssh -o UserKnownHostsFile=FILE` can reach the nodes as safely as Dial does.
func WriteKnownHosts(w io.Writer, hosts map[string]xssh.PublicKey) error {
	addrs := make([]string, 0, len(hosts))
	for a := range hosts {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		if _, err := fmt.Fprintln(w, knownhosts.Line([]string{knownhosts.Normalize(a)}, hosts[a])); err != nil {
			return fmt.Errorf("writing known_hosts entry for %s: %w", a, err)
		}
	}
	return nil
}
