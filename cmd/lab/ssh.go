package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/kthw-lab/lab/lab"
	"github.com/urfave/cli/v2"
)

func sshCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:         "ssh",
		BashComplete: g.completeNodes,
		Usage:        "open a shell on a node, or run a command there",
		ArgsUsage:    "NODE [-- COMMAND...]",
		Description: `Logs in as the lab user with the lab's key, accepting only the node's pinned
host key. With a command after --, runs it and exits with its exit status:

   lab ssh k8smaster1 -- systemctl is-active etcd`,
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return newUsageError(c, "which node? name one, such as k8smaster0")
			}
			client, err := g.dialNode(c, c.Args().First())
			if err != nil {
				return err
			}
			defer client.Close()
			cmd := strings.Join(remoteArgs(c.Args().Tail()), " ")
			if cmd == "" {
				return remoteExit(client.Shell(c.Context, g.streams.in, g.streams.out, g.streams.err, isTerminal(g.streams.out)))
			}
			return remoteExit(client.Stream(c.Context, cmd, g.streams.out, g.streams.err))
		},
	}
}

func logsCommand(g *globals) *cli.Command {
	var follow bool
	var lines int
	return &cli.Command{
		Name:         "logs",
		BashComplete: g.completeNodes,
		Usage:        "show the etcd journal of a node",
		ArgsUsage:    "NODE",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Destination: &follow, Usage: "keep printing new lines"},
			&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Destination: &lines, Usage: "show only the last N lines (0: all)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return newUsageError(c, "name one node: lab logs NODE [-f] [-n N]")
			}
			if lines < 0 {
				return refuse("--lines", lines, "cannot be negative", "use 0 for all lines, or N for the last N")
			}
			client, err := g.dialNode(c, c.Args().First())
			if err != nil {
				return err
			}
			defer client.Close()
			cmd := "sudo journalctl --no-pager -o short-precise -u etcd"
			if lines > 0 {
				cmd += fmt.Sprintf(" -n %d", lines)
			}
			if follow {
				cmd += " -f"
			}
			err = client.Stream(c.Context, cmd, g.streams.out, g.streams.err)
			if follow && errors.Is(err, c.Context.Err()) {
				return nil // Ctrl-C ends following
			}
			return remoteExit(err)
		},
	}
}

func envCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "env",
		Usage: "print the ETCDCTL_* exports that point the real etcdctl at the lab",
		Description: `Prints shell exports for etcdctl (mutual TLS with the lab's certificates):

   eval "$(lab env)"
   etcdctl member list -w table`,
		Action: func(c *cli.Context) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			vars := l.EtcdctlEnv()
			if g.json() {
				m := map[string]string{}
				for _, v := range vars {
					m[v[0]] = v[1]
				}
				return g.printJSON(m)
			}
			for _, v := range vars {
				fmt.Fprintf(g.streams.out, "export %s=%q\n", v[0], v[1])
			}
			return nil
		},
	}
}

// nodeSession is what ssh and logs do on a node (a *lab/ssh.Client).
type nodeSession interface {
	Shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, tty bool) error
	Stream(ctx context.Context, cmd string, stdout, stderr io.Writer) error
	Close() error
}

// dialNode connects to a node of the lab by name (or domain name).
func (g *globals) dialNode(c *cli.Context, name string) (nodeSession, error) {
	l, err := g.open()
	if err != nil {
		return nil, err
	}
	node, err := l.Node(name)
	if err != nil {
		return nil, err
	}
	return l.SSH(c.Context, node)
}

// remoteArgs drops the "--" that separates lab's arguments from the remote
// command (the flag parser leaves it in when it follows the node).
func remoteArgs(args []string) []string {
	if len(args) > 0 && args[0] == "--" {
		return args[1:]
	}
	return args
}

// remoteExit passes a remote command's exit status through as lab's own,
// without a message: the command's stderr has already been shown.
func remoteExit(err error) error {
	if code := lab.RemoteExitStatus(err); code > 0 {
		return exitError{code: code}
	}
	return err
}
