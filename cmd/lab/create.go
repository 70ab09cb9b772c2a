package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

func createCommand(g *globals) *cli.Command {
	var f specFlags
	return &cli.Command{
		Name:  "create",
		Usage: "create the lab: network, pools, volumes, seeds and VMs, and wait for a healthy etcd",
		Description: `Creates the lab's isolated network, the ssd and hdd storage pools, per node an
OS disk (an overlay of the base image), an etcd data disk and a cloud-init seed,
and the VMs. It waits, per node, for the seed's readiness line on the serial
console, then SSH with the pinned host key and, on that connection, cloud-init's
report that the seed's stage finished without errors; it returns when etcd has a quorum over
mutual TLS, and prints the member table. Interrupted (Ctrl-C: the current step finishes; twice: at once),
'lab destroy' removes what was made and the same 'lab create' finishes it.

Before it makes anything it checks, in order: names and flags and their ranges
(this host's CPUs and memory too), the --image file's format (qcow2, by its
header), the --etcd-binary (an x86-64 ELF), the subnet against this host's
interfaces and routes; then the cache, libvirt and the KVM self-test. A refused
value exits 2.`,
		Flags:  f.flags(),
		Action: func(c *cli.Context) error { return g.create(c, &f) },
	}
}

// create creates the lab the flags describe and prints its member table.
func (g *globals) create(c *cli.Context, f *specFlags) error {
	pr, err := f.prepare(c.Context, g, g.host)
	if err != nil {
		return err
	}
	plan, img := pr.Plan, pr.Image
	status := g.printer()
	store, err := g.store()
	if err != nil {
		return err
	}
	if _, err := lab.Create(c.Context, lab.CreateOptions{
		Store: store, Host: g.host, Plan: plan,
		Accel: plan.Spec.Accel, CacheDir: g.CacheDir, Image: img, Etcd: pr.Etcd, HostPrefixes: pr.HostPrefixes,
		Waiter:   lab.NodeWaiter{Progress: status},
		Progress: status, Logger: g.logger(),
	}); err != nil {
		return err
	}
	l, err := g.open()
	if err != nil {
		return err
	}
	return g.printMembers(c.Context, l)
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
			p, err := g.host.Libvirt(c.Context)
			if err != nil {
				return err
			}
			if err := lab.Destroy(c.Context, store, p, g.printer()); err != nil {
				return err
			}
			if g.json() {
				return g.printJSON(destroyJSON{Lab: g.Lab, Destroyed: true})
			}
			return nil
		},
	}
}
