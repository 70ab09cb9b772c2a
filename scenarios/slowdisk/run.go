package slowdisk

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/disk"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/progress"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/scenarios/report"
)

// Options are the inputs of Run.
type Options struct {
	State    *lab.State
	Store    lab.Store
	Provider *virt.Provider
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
	// Probe bounds the disk probe before each arm.
	Probe disk.ProbeOptions
	// OutDir receives report.md, report.json, the charts and per arm its
	// evidence.
	OutDir string
	Host   string
	Status *progress.Status
	Logger *slog.Logger
}

// Defaults for Options.
const (
	DefaultDuration          = 90 * time.Second
	DefaultFirstLeaderWait   = 2 * time.Minute
	DefaultCheckPerfDuration = 20 * time.Second
)

// Run runs the arms one after the other on the lab's VMs, writes the report
// into OutDir and returns it. Afterwards the lab is back as create left it:
// ssd profile, the plan's timeouts, a fresh healthy cluster.
func Run(ctx context.Context, o Options) (*report.Report, error) {
	o.Duration = cmp.Or(o.Duration, DefaultDuration)
	o.FirstLeaderWait = cmp.Or(o.FirstLeaderWait, DefaultFirstLeaderWait)
	if o.Probe.Count == 0 {
		o.Probe = disk.ProbeOptions{Count: 300, MaxTime: 8 * time.Second, Dir: disk.DefaultProbe().Dir}
	}
	if len(o.Arms) == 0 {
		o.Arms = Arms
	}
	keys, err := pki.Load(o.Store.PKIDir())
	if err != nil {
		return nil, err
	}
	etcdCfg, err := o.Store.EtcdConfig(o.State)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the report directory: %w", err)
	}
	r := &runner{Options: o, cl: &cluster{st: o.State, store: o.Store, keys: keys},
		etcdCfg: etcdCfg}
	rep := &report.Report{Scenario: "slow-disk", Started: time.Now().UTC(), Host: o.Host,
		EtcdVersion: o.State.Etcd.Version, Duration: o.Duration}
	for _, a := range o.Arms {
		end := o.Status.Start("arm %s: %s", a.Name, a.Description)
		armReport, err := r.arm(ctx, a)
		end(err)
		if err != nil {
			r.restore(context.WithoutCancel(ctx))
			return rep, fmt.Errorf("arm %s: %w", a.Name, err)
		}
		rep.Arms = append(rep.Arms, armReport)
	}
	if err := report.Write(o.OutDir, *rep); err != nil {
		return rep, err
	}
	return rep, r.restore(ctx)
}

type runner struct {
	Options
	cl      *cluster
	etcdCfg etcd.ClientConfig
}

// restore puts the lab back as create left it.
func (r *runner) restore(ctx context.Context) error {
	end := r.Status.Start("restoring the lab (ssd profile, the plan's timeouts, a fresh cluster)")
	err := r.bootstrap(ctx, disk.Profile{Name: disk.SSD}, r.State.Plan.Etcd.HeartbeatInterval, r.State.Plan.Etcd.ElectionTimeout)
	if err == nil {
		c, cerr := etcd.New(ctx, r.etcdCfg)
		if cerr != nil {
			err = cerr
		} else {
			defer c.Close()
			deadline, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			for {
				if err = c.Quorum(deadline, r.State.Plan.NodeNames()); err == nil || deadline.Err() != nil {
					break
				}
				time.Sleep(time.Second)
			}
		}
	}
	end(err)
	return err
}

// bootstrap stops and wipes etcd, applies the disk profile and the
// timeouts, and starts every member at once.
func (r *runner) bootstrap(ctx context.Context, p disk.Profile, heartbeat, election time.Duration) error {
	if err := r.cl.reset(ctx, heartbeat, election); err != nil {
		return err
	}
	if err := lab.SetDiskProfile(ctx, r.State, r.Store, r.Provider, r.State.Plan.Nodes, p, r.Status); err != nil {
		return err
	}
	return r.cl.start(ctx)
}

func (r *runner) evidenceDir(a Arm) (string, error) {
	dir := filepath.Join(r.OutDir, a.Name)
	return dir, os.MkdirAll(dir, 0o755)
}
