package slowdisk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
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

// Where an arm's etcd goes on the guests: the lab's own binary is kept
// beside it the first time another replaces it, and put back by every arm
// that runs the lab's own (and by the restore).
const (
	guestEtcd    = "/usr/local/bin/etcd"
	guestLabEtcd = "/usr/local/bin/etcd.lab"
	armDropIn    = "/etc/systemd/system/etcd.service.d/lab-arm.conf"
)

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
// afresh.
func (c *cluster) reset(ctx context.Context, heartbeat, election time.Duration, env armEnv) error {
	return c.each(func(n spec.Node) error {
		unit, err := lab.UnitFor(&c.st.Plan, n, heartbeat, election)
		if err != nil {
			return err
		}
		// SIGKILL first: the data is wiped next, so etcd's graceful stop
		// (a leader hands its leadership over, for up to 5 s + 2 ×
		// election, to a member that is stopping too) is wasted time.
		// RestartSec keeps on-failure from restarting it before the stop.
		script := "set -e\nsystemctl kill --signal=SIGKILL etcd 2>/dev/null || true\nsystemctl stop etcd\nrm -rf /var/lib/etcd/member\n" +
			"cat > /etc/systemd/system/etcd.service <<'LAB_UNIT_EOF'\n" + string(unit) + "LAB_UNIT_EOF\n" +
			"rm -f " + armDropIn + "\n"
		if env.NoPreVote {
			// etcd reads every flag from ETCD_<FLAG> too (3.4 and later).
			script += "mkdir -p " + path.Dir(armDropIn) + "\nprintf '[Service]\\nEnvironment=ETCD_PRE_VOTE=false\\n' > " + armDropIn + "\n"
		}
		if !env.OwnEtcd {
			script += "if [ -e " + guestLabEtcd + " ]; then cp -p " + guestLabEtcd + " " + guestEtcd + "; fi\n"
		}
		script += "systemctl daemon-reload\n"
		if _, err := c.run(ctx, n, script); err != nil {
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
// guest in place of the lab's, which is kept as guestLabEtcd. etcd must be
// stopped. The copy is checked on the guest before it replaces anything.
func (c *cluster) installEtcd(ctx context.Context, path, sum string) error {
	script := "set -e\n" +
		"test -e " + guestLabEtcd + " || cp -p " + guestEtcd + " " + guestLabEtcd + "\n" +
		"cat > " + guestEtcd + ".arm\nchmod 0755 " + guestEtcd + ".arm\n" +
		"echo '" + sum + "  " + guestEtcd + ".arm' | sha256sum -c --quiet\n" +
		"mv " + guestEtcd + ".arm " + guestEtcd + "\n"
	// A guest that already runs this binary (the previous arm's, with the
	// lab's own kept aside) needs no copy: that saves an upload per node
	// for the second arm on the same version.
	installed := "if echo '" + sum + "  " + guestEtcd + "' | sha256sum -c --quiet >/dev/null 2>&1 && test -e " +
		guestLabEtcd + "; then echo installed; fi\n"
	return c.each(func(n spec.Node) error {
		if out, err := c.run(ctx, n, installed); err == nil && strings.TrimSpace(out) == "installed" {
			return nil
		}
		err := c.backoff.retry(ctx, "", func(ctx context.Context) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if c.upload != nil {
				return c.upload(ctx, n, script, f)
			}
			cfg, err := c.lab.SSHConfig(n)
			if err != nil {
				return err
			}
			cl, err := labssh.Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer cl.Close()
			_, _, err = cl.RunInput(ctx, "sudo sh -c "+shellQuote(script), f)
			return err
		})
		if err != nil {
			return fmt.Errorf("installing %s on %s: %w", path, n.Name, err)
		}
		return nil
	})
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
