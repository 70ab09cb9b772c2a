package thresholdmap

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"
)

// arm makes a cell's result with the outcome: stable (one leader after
// 2 s), slow start (one leader, after 12 election timeouts and 9
// elections), unstable (three leader changes) or never elected.
func arm(c Cell, outcome string) report.Arm {
	a := report.Arm{Name: c.ID(), Profile: "hdd", EtcdVersion: c.Version, PreVoteOff: c.PreVoteOff,
		Heartbeat: measure.Seconds(c.Heartbeat), Election: measure.Seconds(c.Election), FsyncP99: measure.Seconds(c.Fsync + c.Fsync/10),
		TimeToFirstLeader: measure.Seconds(2 * time.Second), Elections: 1, MaxTerm: 2,
		Phases:   report.Phases{ObservationStart: measure.Seconds(2 * time.Second), ObservationEnd: measure.Seconds(32 * time.Second), End: measure.Seconds(32 * time.Second)},
		PutCount: 150, PutP99: measure.Seconds(3 * c.Fsync)}
	switch outcome {
	case SlowStart:
		ttfl := 12 * c.Election
		a.TimeToFirstLeader, a.Elections, a.MaxTerm = measure.Seconds(ttfl), 9, 10
		a.Phases.ObservationStart, a.Phases.ObservationEnd, a.Phases.End = measure.Seconds(ttfl), measure.Seconds(ttfl+30*time.Second), measure.Seconds(ttfl+30*time.Second)
	case Unstable:
		a.LeaderChanges, a.Elections, a.MaxTerm, a.TimeWithoutLeader = 3, 7, 9, measure.Seconds(4*time.Second)
	case Never:
		a.TimeToFirstLeader, a.Elections, a.MaxTerm, a.TimeWithoutLeader = report.Never, 40, 41, measure.Seconds(32*time.Second)
	}
	return a
}

// physics is a fake lab: a cell is stable when election ≥ ratio × fsync,
// never elected far below, unstable between.
func physics(ratio float64) func(Cell) string {
	return func(c Cell) string {
		r := float64(c.Election) / float64(c.Fsync)
		switch {
		case r >= ratio:
			return Stable
		case r < 1:
			return Never
		}
		return Unstable
	}
}

// fakeRunner records the cells it ran; failing cells fail once, and
// cancel, when set, is called during the cell named cutOff.
type fakeRunner struct {
	mu      sync.Mutex
	ran     []string
	resets  int
	outcome func(Cell) string
	fail    map[string]bool
	cutOff  string
	cancel  context.CancelFunc
}

func (f *fakeRunner) Run(ctx context.Context, c Cell) (report.Arm, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ran = append(f.ran, c.ID())
	if c.ID() == f.cutOff && f.cancel != nil {
		f.cancel()
		return report.Arm{}, ctx.Err()
	}
	if f.fail[c.ID()] {
		delete(f.fail, c.ID())
		return report.Arm{}, errors.New("ssh: handshake timeout")
	}
	return arm(c, f.outcome(c)), nil
}

func (f *fakeRunner) Reset(context.Context) error {
	f.resets++
	return nil
}

// resultsFor are the grid's results with the outcomes of f.
func resultsFor(g Grid, outcome func(Cell) string) map[string]Result {
	out := map[string]Result{}
	for _, c := range g.Cells() {
		out[c.ID()] = Result{Cell: c, Arm: arm(c, outcome(c)), Wall: 40 * time.Second, Host: "test (accel tcg)",
			Finished: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)}
	}
	return out
}
