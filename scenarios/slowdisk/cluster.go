package slowdisk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/scenarios/measure"
)

// cluster does things to every etcd member of a running lab over SSH.
// Every command is safe to run twice, so a call whose connection failed is
// retried (backoff).
type cluster struct {
	st  *lab.State
	lab *lab.Lab
	// exec runs a script as root on a node; Lab.RunAsRoot when nil (tests
	// inject faults here).
	exec func(ctx context.Context, n spec.Node, script string) (string, error)
	// upload runs script on n with stdin; nil dials the node (tests
	// replace it).
	upload  func(ctx context.Context, n spec.Node, script string, stdin io.Reader) error
	backoff backoff
}

// each runs f on every node in parallel and joins the errors.
func (c *cluster) each(f func(n spec.Node) error) error {
	errs := make([]error, len(c.st.Plan.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.st.Plan.Nodes {
		wg.Go(func() { errs[i] = f(n) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// run runs script on n, retrying failed connections.
func (c *cluster) run(ctx context.Context, n spec.Node, script string) (string, error) {
	var out string
	err := c.backoff.retry(ctx, "", func(ctx context.Context) error {
		var err error
		out, err = c.once(ctx, n, script)
		return err
	})
	return out, err
}

// once runs script on n once.
func (c *cluster) once(ctx context.Context, n spec.Node, script string) (string, error) {
	if c.exec != nil {
		return c.exec(ctx, n, script)
	}
	return c.lab.RunAsRoot(ctx, n, script)
}

// armEnv is what an arm changes on the guests beyond the unit's timeouts.
type armEnv struct {
	// OwnEtcd is true when the arm installs its own etcd after reset (so
	// reset leaves the binary alone); false puts the lab's own back.
	OwnEtcd bool
	// NoPreVote writes a drop-in setting ETCD_PRE_VOTE=false.
	NoPreVote bool
}

// reset stops etcd everywhere, wipes its data and installs a unit with the
// arm's timeouts and environment; etcd is left stopped, ready to bootstrap
// afresh. The unit is the one create renders (lab.UnitFor), installed as
// the seed installs it (guest.ResetScript, guest.UnitFile).
func (c *cluster) reset(ctx context.Context, heartbeat, election time.Duration, env armEnv) error {
	script := guest.ResetScript(guest.ResetOptions{KeepEtcd: env.OwnEtcd, NoPreVote: env.NoPreVote})
	return c.each(func(n spec.Node) error {
		unit, err := lab.UnitFor(&c.st.Plan, n, heartbeat, election)
		if err != nil {
			return err
		}
		err = c.send(ctx, n, script, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(unit)), nil })
		if err != nil {
			return fmt.Errorf("resetting etcd on %s: %w", n.Name, err)
		}
		return nil
	})
}

// start starts every member at once: a new cluster needs its peers, and
// the unit (Type=notify) would otherwise block until a quorum exists.
func (c *cluster) start(ctx context.Context) error {
	return c.each(func(n spec.Node) error {
		if _, err := c.run(ctx, n, "systemctl start --no-block etcd"); err != nil {
			return fmt.Errorf("starting etcd on %s: %w", n.Name, err)
		}
		return nil
	})
}

// clocks returns each guest's clock minus the host's, so journal times can
// be placed on the arm's timeline.
func (c *cluster) clocks(ctx context.Context) (map[string]time.Duration, error) {
	var mu sync.Mutex
	offsets := map[string]time.Duration{}
	err := c.each(func(n spec.Node) error {
		// Timed per attempt: a retried call must not count its waits.
		var before, after time.Time
		var out string
		err := c.backoff.retry(ctx, "reading the clock of "+n.Name, func(ctx context.Context) error {
			var err error
			before = time.Now()
			out, err = c.once(ctx, n, "date +%s.%N")
			after = time.Now()
			return err
		})
		if err != nil {
			return err
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
		if err != nil {
			return fmt.Errorf("reading the clock of %s: %q", n.Name, out)
		}
		guest := time.Unix(0, int64(secs*1e9))
		mid := before.Add(after.Sub(before) / 2)
		mu.Lock()
		offsets[n.Name] = guest.Sub(mid)
		mu.Unlock()
		return nil
	})
	return offsets, err
}

// journal returns node n's etcd journal since a guest time, with precise
// ISO timestamps.
func (c *cluster) journal(ctx context.Context, n spec.Node, since time.Time) (string, error) {
	return c.run(ctx, n, fmt.Sprintf("journalctl -u etcd --no-pager -o short-iso-precise --since @%d", since.Unix()))
}

// cpu reads every guest's CPU counters and load (measure.CPUScript).
func (c *cluster) cpu(ctx context.Context) (map[string]measure.CPUStat, error) {
	var mu sync.Mutex
	out := map[string]measure.CPUStat{}
	err := c.each(func(n spec.Node) error {
		text, err := c.run(ctx, n, measure.CPUScript)
		if err != nil {
			return err
		}
		st, err := measure.ParseCPU(text)
		if err != nil {
			return fmt.Errorf("%s: %w", n.Name, err)
		}
		mu.Lock()
		out[n.Name] = st
		mu.Unlock()
		return nil
	})
	return out, err
}

// installEtcd puts the etcd binary at path (whose sha256 is sum) on every
// guest in place of the lab's (guest.InstallEtcdScript). etcd must be
// stopped. The copy is checked on the guest before it replaces anything.
func (c *cluster) installEtcd(ctx context.Context, path, sum string) error {
	script := guest.InstallEtcdScript(sum)
	return c.each(func(n spec.Node) error {
		// A guest that already runs this binary (the previous arm's) needs
		// no copy: one upload per node saved for the second arm on a
		// version.
		if out, err := c.run(ctx, n, guest.EtcdInstalledScript(sum)); err == nil && strings.TrimSpace(out) == guest.Installed {
			return nil
		}
		if err := c.send(ctx, n, script, func() (io.ReadCloser, error) { return os.Open(path) }); err != nil {
			return fmt.Errorf("installing %s on %s: %w", path, n.Name, err)
		}
		return nil
	})
}

// send runs script as root on n with open()'s content as its standard
// input, retrying failed connections with the whole content again.
func (c *cluster) send(ctx context.Context, n spec.Node, script string, open func() (io.ReadCloser, error)) error {
	return c.backoff.retry(ctx, "", func(ctx context.Context) error {
		f, err := open()
		if err != nil {
			return err
		}
		defer f.Close()
		if c.upload != nil {
			return c.upload(ctx, n, script, f)
		}
		_, err = c.lab.RunAsRootInput(ctx, n, script, f)
		return err
	})
}
