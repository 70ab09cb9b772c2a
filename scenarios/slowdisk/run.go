package slowdisk

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/progress"
	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"
)

// Options are the inputs of Run.
type Options struct {
	// Lab is the lab the arms run on.
	Lab *lab.Lab
	// Arms to run, in order; Arms when empty.
	Arms []Arm
	// Duration is how long each arm is observed under the workload once
	// its cluster has a leader (or once FirstLeaderWait has passed).
	Duration time.Duration
	// FirstLeaderWait bounds the wait for a first leader before the
	// observation starts anyway; the story's cluster never got one.
	FirstLeaderWait time.Duration
	// FsyncLatency is the hdd profile's target fsync (0: the default).
	FsyncLatency time.Duration
	// CheckPerfDuration is how long check perf runs at the end of each arm
	// (0: skip it).
	CheckPerfDuration time.Duration
	// NoRestore leaves the lab as the last arm left it instead of
	// restoring it: for a lab that is destroyed next (make demo), the
	// restore's fresh cluster is a bootstrap no one uses.
	NoRestore bool
	// Probe bounds the disk probe before each arm.
	Probe guest.ProbeOptions
	// EtcdBinaries are the etcd binaries of the arms that run their own
	// version (Arm.EtcdVersion), by version.
	EtcdBinaries map[string]EtcdBinary
	// OutDir receives report.md, report.json, the charts and per arm its
	// evidence.
	OutDir   string
	Host     string
	Progress *progress.Printer
	Logger   *slog.Logger
}

// EtcdBinary is an etcd binary on this host and its sha256, which the
// guests check their copy against.
type EtcdBinary struct {
	Path, SHA256 string
}

// Defaults for Options.
const (
	DefaultDuration          = 90 * time.Second
	DefaultFirstLeaderWait   = time.Minute
	DefaultCheckPerfDuration = 20 * time.Second
)

// Run runs the arms one after the other on the lab's VMs, writes the report
// into OutDir after every arm and returns it. An arm that fails does not
// stop the others: the report names it and why, and so does the error.
// Afterwards the lab is back as create left it: ssd profile, the plan's
// timeouts, a fresh healthy cluster (a restore that is late is
// Report.RestoreWarning). When ctx ends, the report of the arms done is
// written and the lab is left as it is.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	o.Duration = cmp.Or(o.Duration, DefaultDuration)
	o.FirstLeaderWait = cmp.Or(o.FirstLeaderWait, DefaultFirstLeaderWait)
	if o.Probe.Count == 0 {
		// At least 100 writes or 30 s: the tuned rule needs a p99 from
		// more than a handful of 1 s fsyncs.
		o.Probe = guest.ProbeOptions{Count: 300, MaxTime: 30 * time.Second, Dir: guest.DefaultProbe().Dir}
	}
	if len(o.Arms) == 0 {
		o.Arms = Arms
	}
	for _, a := range o.Arms {
		if _, ok := o.EtcdBinaries[a.EtcdVersion]; a.EtcdVersion != "" && !ok {
			return nil, fmt.Errorf("arm %s runs etcd %s, but no binary of it was given", a.Name, a.EtcdVersion)
		}
	}
	etcdCfg, err := o.Lab.EtcdConfig()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the report directory: %w", err)
	}
	r := newRunner(o, etcdCfg)
	r.runArm, r.resetLab = r.arm, r.resetAfterFailure
	r.write = func(rep report.Report) error { return report.Write(o.OutDir, rep) }
	rep := &report.Report{Scenario: "slow-disk", Started: time.Now().UTC(), Host: o.Host,
		EtcdVersion: o.Lab.State.Etcd.Version, Duration: measure.Seconds(o.Duration)}
	err = r.runArms(ctx, rep)
	if ctx.Err() != nil {
		// Interrupted: the report of the arms done is written; restoring
		// the lab would take minutes the user just refused.
		return rep, err
	}
	if o.NoRestore {
		r.Progress.Printf("not restoring the lab (--restore=false): its members run the last arm's disk profile, timeouts and etcd")
		return rep, err
	}
	if rerr := r.restore(ctx, restoreWait(rep.Arms)); rerr != nil {
		if ctx.Err() != nil {
			return rep, errors.Join(err, rerr)
		}
		rep.RestoreWarning = rerr.Error()
	}
	return rep, err
}

// runArms runs the arms in order and rewrites the report after each, so
// a run that dies later keeps what it measured. An arm that fails is
// recorded in rep.Missing with its cause, the lab is reset and the next
// arm runs; an interrupted run (ctx done) records the arms it did not
// finish. The error names the arms without results; nil when every arm
// has them.
func (r *runner) runArms(ctx context.Context, rep *report.Report) error {
	var werr error
	write := func(pending []Arm) {
		rep.Elapsed = measure.Seconds(time.Since(rep.Started))
		snap := *rep
		snap.Missing = slices.Clone(rep.Missing)
		for _, a := range pending {
			snap.Missing = append(snap.Missing, report.Missing{Name: a.Name,
				Reason: "not run yet: the run was still going when this report was written"})
		}
		if err := r.write(snap); err != nil {
			werr = err
			r.Progress.Printf("warning: %v", err)
		}
	}
	for i, a := range r.Arms {
		if ctx.Err() != nil {
			for _, rest := range r.Arms[i:] {
				rep.Missing = append(rep.Missing, report.Missing{Name: rest.Name, Reason: "not run: the run was interrupted"})
			}
			break
		}
		end := r.Progress.Start("arm %s: %s", a.Name, a.Description)
		out, err := r.runArm(ctx, a)
		end(err)
		switch {
		case err == nil:
			rep.Arms = append(rep.Arms, out)
		case ctx.Err() != nil:
			rep.Missing = append(rep.Missing, report.Missing{Name: a.Name, Reason: "not finished: the run was interrupted"})
		default:
			rep.Missing = append(rep.Missing, report.Missing{Name: a.Name, Reason: "failed: " + err.Error()})
			if i < len(r.Arms)-1 {
				if rerr := r.resetLab(ctx); rerr != nil {
					r.Progress.Printf("warning: resetting the lab after arm %s: %v", a.Name, rerr)
				}
			}
		}
		write(r.Arms[i+1:])
	}
	if ctx.Err() != nil {
		write(nil)
		return fmt.Errorf("interrupted (%w): the report of the %s done is written",
			context.Cause(ctx), plural(len(rep.Arms), "arm", "arms"))
	}
	if rep.Partial() {
		var names []string
		for _, m := range rep.Missing {
			names = append(names, fmt.Sprintf("%s (%s)", m.Name, m.Reason))
		}
		return errors.Join(fmt.Errorf("arms without results: %s", strings.Join(names, "; ")), werr)
	}
	return werr
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// resetAfterFailure leaves the lab ready for the next arm after one
// failed: etcd stopped and wiped everywhere, the plan's timeouts. The next
// arm sets its own profile and bootstraps.
func (r *runner) resetAfterFailure(ctx context.Context) error {
	return r.cl.reset(ctx, r.Lab.State.Plan.Etcd.HeartbeatInterval, r.Lab.State.Plan.Etcd.ElectionTimeout, armEnv{})
}

type runner struct {
	Options
	cl      *cluster
	etcdCfg etcd.ClientConfig
	backoff backoff
	// runArm, resetLab and write are r.arm, r.resetAfterFailure and
	// report.Write into OutDir; tests replace them.
	runArm   func(context.Context, Arm) (report.Arm, error)
	resetLab func(context.Context) error
	write    func(report.Report) error
	// disk is what the data disks are known to be: the profile last set
	// on every node and the probes taken on it since. Arms and cells in a
	// row on the same profile skip setting it again and reuse an
	// identical probe: the disk under them has not changed.
	disk diskState
	// applyProfile and probeDisks set and probe every node's data disk
	// (the lab's); tests replace them.
	applyProfile func(context.Context, guest.Profile) error
	probeDisks   func(context.Context, guest.ProbeOptions) ([]guest.ProbeResult, error)
}

// newRunner is the runner of arms or cells on o.Lab.
func newRunner(o Options, etcdCfg etcd.ClientConfig) *runner {
	r := &runner{Options: o, cl: &cluster{st: o.Lab.State, lab: o.Lab, backoff: defaultBackoff},
		etcdCfg: etcdCfg, backoff: defaultBackoff}
	r.applyProfile = func(ctx context.Context, p guest.Profile) error {
		return r.Lab.SetDiskProfile(ctx, r.Lab.State.Plan.Nodes, p)
	}
	r.probeDisks = func(ctx context.Context, o guest.ProbeOptions) ([]guest.ProbeResult, error) {
		return r.Lab.ProbeDisks(ctx, r.Lab.State.Plan.Nodes, o)
	}
	return r
}

// diskState is the data disks' profile as last set on every node, and the
// probes taken on it, by options; probes is nil while the disks are
// unknown (before the first profile, or after one failed to apply).
type diskState struct {
	profile guest.Profile
	probes  map[guest.ProbeOptions]probeRun
}

// probeRun is one probe of every node's disk, and the arm that took it.
type probeRun struct {
	arm     string
	results []guest.ProbeResult
}

// Bounds of the restore's wait for the fresh cluster to serve: a bootstrap
// on the ssd profile takes seconds on a quiet host and much longer on a
// busy one, so the wait scales with what the control arm measured here.
const (
	minRestoreWait     = 3 * time.Minute
	restoreWaitPerBoot = 5
)

// restoreWait is how long restore waits for a quorum: restoreWaitPerBoot
// times the slowest first leader of the ssd arms that ran (this host's
// bootstrap time), and never less than minRestoreWait.
func restoreWait(arms []report.Arm) time.Duration {
	wait := minRestoreWait
	for _, a := range arms {
		if a.Profile == guest.SSD && a.Elected() {
			wait = max(wait, restoreWaitPerBoot*a.TimeToFirstLeader.D())
		}
	}
	return wait
}

// restore puts the lab back as create left it: a fresh cluster on the ssd
// profile with the plan's timeouts, waited for up to wait. The report is
// complete by then, so a restore that is not done in time is not a failed
// scenario: the error says how to finish it.
func (r *runner) restore(ctx context.Context, wait time.Duration) error {
	end := r.Progress.Start("restoring the lab (ssd profile, the plan's timeouts, a fresh cluster; waiting up to %s)", wait)
	err := r.bootstrap(ctx, guest.Profile{Name: guest.SSD}, r.Lab.State.Plan.Etcd.HeartbeatInterval, r.Lab.State.Plan.Etcd.ElectionTimeout)
	if err == nil {
		err = r.awaitQuorum(ctx, wait)
	}
	end(err)
	if err != nil {
		return fmt.Errorf("restoring the lab: %w; the members were restarted fresh and may still be electing: "+
			"'lab --lab %s status' shows when all serve, and if they never do, 'lab --lab %s destroy' and 'lab --lab %s create' rebuild it",
			err, r.Lab.State.Name, r.Lab.State.Name, r.Lab.State.Name)
	}
	return nil
}

// awaitQuorum waits until every member serves and agrees on a leader. A
// member serves clients only once the cluster has elected, so refused
// connections are part of the wait, not its failure.
func (r *runner) awaitQuorum(ctx context.Context, wait time.Duration) error {
	deadline, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var last error
	for {
		last = r.quorumOnce(deadline)
		if last == nil {
			return nil
		}
		select {
		case <-deadline.Done():
			return fmt.Errorf("no healthy quorum after %s: %w", wait, last)
		case <-time.After(2 * time.Second):
		}
	}
}

func (r *runner) quorumOnce(ctx context.Context) error {
	c, err := etcd.New(ctx, r.etcdCfg)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Quorum(ctx, r.Lab.State.Plan.NodeNames())
}

// bootstrap stops and wipes etcd, applies the disk profile and the
// timeouts, and starts every member at once.
func (r *runner) bootstrap(ctx context.Context, p guest.Profile, heartbeat, election time.Duration) error {
	// The lab's own etcd, no arm's environment.
	if err := r.cl.reset(ctx, heartbeat, election, armEnv{}); err != nil {
		return err
	}
	if err := r.setProfile(ctx, p); err != nil {
		return err
	}
	return r.cl.start(ctx)
}

func (r *runner) evidenceDir(a Arm) (string, error) {
	dir := filepath.Join(r.OutDir, a.Name)
	return dir, os.MkdirAll(dir, 0o755)
}

// setProfile applies p on every node, retrying failed connections (the
// profile's script is safe to run twice).
func (r *runner) setProfile(ctx context.Context, p guest.Profile) error {
	if r.disk.probes != nil && r.disk.profile == p {
		return nil
	}
	// Until every node has it, the disks are whatever the failure left.
	r.disk = diskState{}
	err := r.backoff.retry(ctx, "setting the disk profile "+p.Name, func(ctx context.Context) error {
		return r.applyProfile(ctx, p)
	})
	if err == nil {
		r.disk = diskState{profile: p, probes: map[guest.ProbeOptions]probeRun{}}
	}
	return err
}
