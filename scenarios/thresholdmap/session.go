package thresholdmap

import (
	"context"
	"time"

	"github.com/kthw-lab/lab/scenarios/report"
	"github.com/kthw-lab/lab/scenarios/slowdisk"
)

// minFirstLeaderWait is the least a cell waits for its first leader: a
// short cell on a slow disk still gets the time a bootstrap takes here.
const minFirstLeaderWait = 30 * time.Second

// SessionRunner runs the grid's cells through slow-disk's arm machinery
// on an open session; labEtcd is the lab's own etcd version, which runs
// the lab's own binary.
func SessionRunner(s *slowdisk.Session, grid Grid, labEtcd string) CellRunner {
	return sessionRunner{s: s, grid: grid, labEtcd: labEtcd}
}

type sessionRunner struct {
	s       *slowdisk.Session
	grid    Grid
	labEtcd string
}

func (r sessionRunner) Run(ctx context.Context, c Cell) (report.Arm, error) {
	v := c.Version
	if v == r.labEtcd {
		v = ""
	}
	return r.s.Run(ctx, slowdisk.CellSpec{Name: c.ID(), Fsync: c.Fsync, Heartbeat: c.Heartbeat, Election: c.Election,
		EtcdVersion: v, NoPreVote: c.PreVoteOff, Duration: r.grid.CellDuration}, max(r.grid.CellDuration, minFirstLeaderWait))
}

func (r sessionRunner) Reset(ctx context.Context) error { return r.s.Reset(ctx) }
