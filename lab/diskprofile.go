package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
)

// Nodes resolves node names (or all nodes for none) against the lab.
func (st *State) Nodes(names []string) ([]spec.Node, error) {
	if len(names) == 0 {
		return st.Plan.Nodes, nil
	}
	var out []spec.Node
	for _, name := range names {
		n, ok := st.Plan.Node(name)
		if !ok {
			return nil, fmt.Errorf("lab %q has no node %q: its nodes are %s", st.Name, name, strings.Join(st.Plan.NodeNames(), ", "))
		}
		out = append(out, n)
	}
	return out, nil
}

// SetDiskProfile applies profile p live to the data disks of nodes: the
// delay device's table inside each guest and the block I/O caps on the host.
func (l *Lab) SetDiskProfile(ctx context.Context, nodes []spec.Node, p guest.Profile) error {
	prov, err := l.Libvirt(ctx)
	if err != nil {
		return err
	}
	return eachNode(nodes, func(n spec.Node) error {
		end := l.progress().Start("setting disk profile %s on %s (write +%s, flush +%s)", p.Name, n.Name, p.WriteDelay, p.FlushDelay)
		out, err := l.RunAsRoot(ctx, n, p.ApplyScript())
		if err == nil {
			err = checkTable(n.Name, out, p)
		}
		if err == nil {
			err = prov.SetBlockIOTune(ctx, n.Domain, l.State.Name, guest.DataTarget, virt.IOTune(p.IOTune))
		}
		end(err)
		return err
	})
}

// SplitRealHDD splits nodes into those whose data disk may get the hdd
// profile's emulation and those whose data disk is in an hdd pool on a
// real rotational disk: emulating a slow disk on top of one would measure
// both.
func (l *Lab) SplitRealHDD(nodes []spec.Node) (emulate, real []spec.Node) {
	for _, n := range nodes {
		if n.DataPool == spec.PoolHDD {
			if rot, err := onRotationalDisk(l.State.Plan.Pool(spec.PoolHDD).Path); err == nil && rot {
				real = append(real, n)
				continue
			}
		}
		emulate = append(emulate, n)
	}
	return emulate, real
}

// checkTable confirms the device now has the profile's delays: the table
// dmsetup printed last.
func checkTable(node, out string, p guest.Profile) error {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	w, f, err := guest.ParseDelayTable(lines[len(lines)-1])
	if err != nil {
		return fmt.Errorf("reading back the delay device on %s: %w", node, err)
	}
	if w != p.WriteDelay.Truncate(1e6) || f != p.FlushDelay.Truncate(1e6) {
		return fmt.Errorf("delay device on %s has write +%s flush +%s, want +%s +%s", node, w, f, p.WriteDelay, p.FlushDelay)
	}
	return nil
}

// ProbeDisks runs the fdatasync probe on each node's data disk, in
// parallel: nodes that share a host disk contend, as etcd's members do.
// The probe is the lab binary o.Binary (this program by default), carried
// to each node that does not have it yet.
func (l *Lab) ProbeDisks(ctx context.Context, nodes []spec.Node, o guest.ProbeOptions) ([]guest.ProbeResult, error) {
	probe := o.Probe()
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	bin, err := carried(o.Binary)
	if err != nil {
		return nil, err
	}
	results := make([]guest.ProbeResult, len(nodes))
	err = eachNodeIndexed(nodes, func(i int, n spec.Node) error {
		end := l.progress().Start("probing fdatasync on %s", n.Name)
		out, err := l.runProbe(ctx, n, bin, probe)
		if err == nil {
			results[i], err = guest.ParseProbe(n.Name, out)
		}
		end(err)
		return err
	})
	return results, err
}

func eachNode(nodes []spec.Node, f func(spec.Node) error) error {
	return eachNodeIndexed(nodes, func(_ int, n spec.Node) error { return f(n) })
}

// eachNodeIndexed runs f for every node in parallel and joins the errors.
func eachNodeIndexed(nodes []spec.Node, f func(int, spec.Node) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { errs[i] = f(i, n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
