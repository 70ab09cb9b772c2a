package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/virt"
)

func createCommand(g *globals) *cli.Command {
	var f specFlags
	return &cli.Command{
		Name:  "create",
		Usage: "create the lab: network, pools, volumes, seeds and VMs, and wait for a healthy etcd",
		Description: `Creates the lab's isolated network, the ssd and hdd storage pools, per node an
OS disk (an overlay of the base image), an etcd data disk and a cloud-init seed,
and the VMs. It returns when every node answers SSH with its pinned host key,
cloud-init has finished and etcd has a quorum over mutual TLS, then prints the
member table. Interrupted (Ctrl-C), 'lab destroy' removes what was made and the
same 'lab create' finishes it.`,
		Flags:  f.flags(),
		Action: func(c *cli.Context) error { return g.create(c, &f) },
	}
}

// create creates the lab the flags describe and prints its member table.
func (g *globals) create(c *cli.Context, f *specFlags) error {
	plan, img, bins, err := f.plan(g)
	if err != nil {
		return err
	}
	status := g.status()
	var hostNets []spec.NamedPrefix
	if t, remote := tunnel.FromContext(c.Context); remote {
		// The lab's bridge goes on the remote host: its routes matter.
		hostNets, err = lab.RemoteHostPrefixes(c.Context, t.Output)
	} else {
		hostNets, err = lab.HostPrefixes()
	}
	if err != nil {
		return err
	}
	p, err := virt.Dial(c.Context, g.Connect)
	if err != nil {
		return err
	}
	defer p.Close()
	accel, err := g.chooseAccel(c.Context, p, plan.Spec.Accel, img)
	if err != nil {
		return err
	}
	store, err := g.store()
	if err != nil {
		return err
	}
	st, err := lab.Create(c.Context, lab.CreateOptions{
		Store: store, Provider: p, Plan: plan, Connect: g.Connect,
		Accel: accel, Image: img, Etcd: bins, HostPrefixes: hostNets,
		Waiter: lab.NodeWaiter{Provider: p, Status: status},
		Status: status, Logger: g.logger(),
	})
	if err != nil {
		return err
	}
	return g.printMembers(c.Context, st)
}

func destroyCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "destroy",
		Usage: "remove every resource the lab owns, and nothing else",
		Description: `Stops and undefines the lab's VMs, deletes its volumes, pools and network and its
state (keys, seeds, console logs). What it removes is what carries the lab's
marker: domains and networks with the lab's name in their metadata, pools whose
UUID the lab made, the lab's volumes in them. Objects the state does not list
are named as orphans and removed too, so a lab whose state is gone (see 'lab
list') is removed from the markers alone. Objects without the marker, files lab
did not write and directories lab did not make are never touched. A pool
directory goes only when libvirt built it for the lab. Refused while another
create or destroy of the lab runs. Succeeds when the lab is already gone.`,
		Action: func(c *cli.Context) error {
			store, err := g.store()
			if err != nil {
				return err
			}
			p, err := virt.Dial(c.Context, g.Connect)
			if err != nil {
				return err
			}
			defer p.Close()
			return lab.Destroy(c.Context, store, p, g.status())
		},
	}
}
