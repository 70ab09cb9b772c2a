package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

func statusCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show the lab's nodes: domain state, address, data pool, etcd member, leader, health",
		Description: `Asks libvirt for each domain's state and every etcd member, over mutual TLS, for
its status and health. Exits 0 when every domain runs, every member is healthy and
one of them leads; 1 when the lab is degraded, with the reasons on stderr and in
the JSON's "degraded" list:

   lab status -o json | jq .degraded`,
		Action: func(c *cli.Context) error {
			l, err := g.open()
			if err != nil {
				return err
			}
			r, err := l.Overview(c.Context)
			if err != nil {
				return err
			}
			if err := g.printStatus(r); err != nil {
				return err
			}
			if len(r.Degraded) > 0 {
				// etcdctl endpoint health exits 1 too: a script can wait on it.
				return exitError{code: 1, msg: fmt.Sprintf("lab %s is degraded: %s", r.Lab, strings.Join(r.Degraded, "; "))}
			}
			return nil
		},
	}
}

func (g *globals) printStatus(r *lab.Overview) error {
	if g.json() {
		return g.printJSON(newStatusJSON(r, g.Verbose))
	}
	fmt.Fprintf(g.streams.out, "lab %s (%s, accel %s, etcd %s)\n", r.Lab, r.Phase, r.Accel, r.Etcd)
	w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NODE\tDOMAIN\tSTATE\tADDRESS\tDATA POOL\tMEMBER\tLEADER\tTERM\tHEALTHY\tERROR")
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%t\t%d\t%t\t%s\n", n.Node, n.Domain, n.State, n.Address,
			n.DataPool, n.Member, n.Leader, n.Term, n.Healthy, n.Error)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if g.Verbose {
		return g.printBoot(r.Boot)
	}
	return nil
}

// printBoot prints the boot timeline create recorded (lab status -v).
func (g *globals) printBoot(b *lab.BootTimeline) error {
	if b == nil {
		fmt.Fprintln(g.streams.out, "\nno boot timeline: create did not finish its waits")
		return nil
	}
	fmt.Fprintf(g.streams.out, "\nboot, seconds after the domains started (%s): quorum at %.1f\n",
		b.Started.Local().Format(time.DateTime), b.Quorum.Seconds())
	w := tabwriter.NewWriter(g.streams.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NODE\tCONSOLE READY\tSSH\tCLOUD-INIT DONE")
	for _, n := range b.Nodes {
		ready := "-"
		if n.Ready > 0 {
			ready = fmt.Sprintf("%.1f", n.Ready.Seconds())
		}
		fmt.Fprintf(w, "%s\t%s\t%.1f\t%.1f\n", n.Node, ready, n.SSH.Seconds(), n.CloudInit.Seconds())
	}
	return w.Flush()
}

// printMembers prints the member table as `etcdctl member list -w table` does.
func (g *globals) printMembers(ctx context.Context, l *lab.Lab) error {
	members, err := l.Members(ctx)
	if err != nil {
		return err
	}
	if g.json() {
		return g.printJSON(members)
	}
	return members.WriteTable(g.streams.out)
}
