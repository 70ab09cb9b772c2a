package lab

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kthw-lab/lab/lab/disk"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
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

// RunAsRoot runs a shell script on node n with sudo and returns its output.
func RunAsRoot(ctx context.Context, keys *pki.PKI, n spec.Node, script string) (string, error) {
	c, err := dialNode(ctx, keys, n)
	if err != nil {
		return "", err
	}
	defer c.Close()
	out, _, err := c.Run(ctx, asRoot(script))
	return string(out), err
}

// dialNode opens the lab's SSH connection to node n. Dialing twice is
// harmless (nothing ran yet); running twice may not be, so only the dial
// is retried.
func dialNode(ctx context.Context, keys *pki.PKI, n spec.Node) (*labssh.Client, error) {
	cfg, err := SSHConfig(keys, n)
	if err != nil {
		return nil, err
	}
	return labssh.DialRetry(ctx, cfg, labssh.DefaultDialAttempts)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// SetDiskProfile applies profile p live to the data disks of nodes: the
// delay device's table inside each guest and the block I/O caps on the host.
func SetDiskProfile(ctx context.Context, st *State, store Store, prov *virt.Provider, nodes []spec.Node, p disk.Profile, status *progress.Status) error {
	keys, err := pki.Load(store.PKIDir())
	if err != nil {
		return err
	}
	return eachNode(nodes, func(n spec.Node) error {
		end := status.Start("setting disk profile %s on %s (write +%s, flush +%s)", p.Name, n.Name, p.WriteDelay, p.FlushDelay)
		out, err := RunAsRoot(ctx, keys, n, p.ApplyScript())
		if err == nil {
			err = checkTable(n.Name, out, p)
		}
		if err == nil {
			err = prov.SetBlockIOTune(ctx, n.Domain, st.Name, disk.DataTarget, p.IOTune)
		}
		end(err)
		return err
	})
}

// checkTable confirms the device now has the profile's delays: the table
// dmsetup printed last.
func checkTable(node, out string, p disk.Profile) error {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	w, f, err := disk.ParseTable(lines[len(lines)-1])
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
func ProbeDisks(ctx context.Context, store Store, nodes []spec.Node, o disk.ProbeOptions, status *progress.Status) ([]disk.ProbeResult, error) {
	probe := o.Probe()
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	bin, err := carried(o.Binary)
	if err != nil {
		return nil, err
	}
	keys, err := pki.Load(store.PKIDir())
	if err != nil {
		return nil, err
	}
	results := make([]disk.ProbeResult, len(nodes))
	err = eachNodeIndexed(nodes, func(i int, n spec.Node) error {
		end := status.Start("probing fdatasync on %s", n.Name)
		out, err := runProbe(ctx, keys, n, bin, probe)
		if err == nil {
			results[i], err = disk.ParseProbe(n.Name, out)
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
