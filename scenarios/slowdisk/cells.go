package slowdisk

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/scenarios/report"
)

// A Session runs single arm-like cells on a lab, one after the other,
// without restoring the lab between them: the threshold map's sweep. Each
// cell is an arm on the hdd profile with the cell's fsync latency, raft
// timeouts, etcd and pre-vote; it wipes etcd and bootstraps afresh like
// every arm. Close restores the lab once, at the end.
type Session struct {
	r *runner
}

// CellSpec is one cell of a sweep.
type CellSpec struct {
	// Name names the cell's evidence directory under the session's OutDir.
	Name string
	// Fsync is the hdd profile's fsync latency.
	Fsync time.Duration
	// Heartbeat and Election are etcd's raft timeouts.
	Heartbeat, Election time.Duration
	// EtcdVersion is the etcd the cell runs, from Options.EtcdBinaries;
	// "" runs the lab's own.
	EtcdVersion string
	// NoPreVote turns pre-vote off (ETCD_PRE_VOTE=false).
	NoPreVote bool
	// Duration is the observation window after the first leader.
	Duration time.Duration
}

// Probe of a cell: shorter than an arm's (the cell's timeouts are given,
// not tuned from it), still enough for a p99 of fast disks and a handful
// of writes on slow ones.
var cellProbe = guest.ProbeOptions{Count: 50, MaxTime: 8 * time.Second, Dir: guest.DefaultProbe().Dir}

// OpenSession prepares cells on o.Lab; o.OutDir receives each cell's
// evidence (o.Arms, Duration and FsyncLatency are the cells'). Nothing
// is touched on the lab until the first Run.
func OpenSession(o Options) (*Session, error) {
	if o.Probe.Count == 0 {
		o.Probe = cellProbe
	}
	etcdCfg, err := o.Lab.EtcdConfig()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the evidence directory: %w", err)
	}
	return &Session{r: newRunner(o, etcdCfg)}, nil
}

// Run runs one cell and returns its result, as an arm's. The cluster is
// observed for c.Duration after its first leader, or after waiting
// firstLeaderWait for one that never came.
func (s *Session) Run(ctx context.Context, c CellSpec, firstLeaderWait time.Duration) (report.Arm, error) {
	if _, ok := s.r.EtcdBinaries[c.EtcdVersion]; c.EtcdVersion != "" && !ok {
		return report.Arm{}, fmt.Errorf("cell %s runs etcd %s, but no binary of it was given", c.Name, c.EtcdVersion)
	}
	s.r.FsyncLatency, s.r.Duration = c.Fsync, c.Duration
	s.r.FirstLeaderWait = cmp.Or(firstLeaderWait, DefaultFirstLeaderWait)
	return s.r.arm(ctx, Arm{Name: c.Name, Profile: guest.HDD, Heartbeat: c.Heartbeat, Election: c.Election,
		EtcdVersion: c.EtcdVersion, NoPreVote: c.NoPreVote,
		Description: fmt.Sprintf("fsync %s, heartbeat %s, election %s", c.Fsync, c.Heartbeat, c.Election)})
}

// Reset leaves the lab ready for the next cell after one failed.
func (s *Session) Reset(ctx context.Context) error { return s.r.resetAfterFailure(ctx) }

// Close restores the lab as create left it (ssd profile, the plan's
// timeouts, a fresh cluster), waiting up to wait (0: the scenario's
// minimum) for its quorum.
func (s *Session) Close(ctx context.Context, wait time.Duration) error {
	return s.r.restore(ctx, max(wait, restoreWait(nil)))
}
