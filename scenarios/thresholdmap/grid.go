package thresholdmap

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/scenarios/slowdisk"
)

// Grid is what the user asked to sweep.
type Grid struct {
	// Fsync are the hdd profile's fsync latencies (the x axis).
	Fsync []time.Duration `json:"fsync"`
	// Election are the election timeouts (the y axis).
	Election []time.Duration `json:"election"`
	// HeartbeatRatio is election / heartbeat (etcd's guidance: 10).
	HeartbeatRatio int `json:"heartbeat_ratio"`
	// Versions are the etcd versions, one heatmap each.
	Versions []string `json:"versions"`
	// PreVote adds, for every version that has pre-vote on by default
	// (3.5 and later), the same cells with pre-vote off.
	PreVote bool `json:"prevote"`
	// CellDuration is each cell's observation window after its first
	// leader.
	CellDuration time.Duration `json:"cell_duration"`
	// Repeats runs each cell this many times.
	Repeats int `json:"repeats"`
}

// Defaults of the grid, as the issue gives them: the story's 1 s fsync in
// the middle, a fast SSD at one end, a dying disk at the other.
var (
	DefaultFsync = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
		500 * time.Millisecond, time.Second, 2 * time.Second}
	DefaultElection = []time.Duration{time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second}
)

// Defaults of the other dimensions.
const (
	DefaultHeartbeatRatio = 10
	DefaultCellDuration   = 60 * time.Second
	// MinFsync and MaxFsync are the hdd profile's range.
	MinFsync = 10 * time.Millisecond
	MaxFsync = 30 * time.Second
)

// Check validates the grid before anything runs: every problem, named with
// its fix.
func (g Grid) Check() error {
	var errs []error
	if len(g.Fsync) == 0 {
		errs = append(errs, errors.New("--fsync: give at least one latency, such as 10ms,1s"))
	}
	for _, f := range g.Fsync {
		if f < MinFsync || f > MaxFsync {
			errs = append(errs, fmt.Errorf("--fsync %s is out of the hdd profile's range: use %s to %s", f, MinFsync, MaxFsync))
		}
	}
	if d := dup(g.Fsync); d != "" {
		errs = append(errs, fmt.Errorf("--fsync names %s twice: give each latency once", d))
	}
	if g.HeartbeatRatio < spec.MinElectionHeartbeatRatio {
		errs = append(errs, fmt.Errorf("--heartbeat-ratio %d: etcd needs the election timeout at least %d heartbeats: use %d or more (its guidance is 10)",
			g.HeartbeatRatio, spec.MinElectionHeartbeatRatio, spec.MinElectionHeartbeatRatio))
	}
	if len(g.Election) == 0 {
		errs = append(errs, errors.New("--election: give at least one election timeout, such as 1s,5s"))
	}
	for _, e := range g.Election {
		switch {
		case e > spec.MaxElectionTimeout:
			errs = append(errs, fmt.Errorf("--election %s: etcd accepts at most %s", e, spec.MaxElectionTimeout))
		case g.HeartbeatRatio > 0 && (e/time.Duration(g.HeartbeatRatio) < 10*time.Millisecond || e%time.Millisecond != 0):
			errs = append(errs, fmt.Errorf("--election %s: want whole milliseconds and a heartbeat (election / %d) of at least 10ms", e, g.HeartbeatRatio))
		}
	}
	if d := dup(g.Election); d != "" {
		errs = append(errs, fmt.Errorf("--election names %s twice: give each timeout once", d))
	}
	if len(g.Versions) == 0 {
		errs = append(errs, errors.New("--versions: give at least one etcd version, such as v3.6.16"))
	}
	seen := map[string]bool{}
	for _, v := range g.Versions {
		if !slowdisk.IsEtcdVersion(v) {
			errs = append(errs, fmt.Errorf("--versions: %q is not an etcd version such as v3.4.23", v))
		}
		if seen[v] {
			errs = append(errs, fmt.Errorf("--versions names %s twice: give each version once", v))
		}
		seen[v] = true
	}
	if g.CellDuration < 10*time.Second {
		errs = append(errs, fmt.Errorf("--cell-duration %s: want at least 10s, enough for a few elections to show", g.CellDuration))
	}
	if g.Repeats < 1 {
		errs = append(errs, fmt.Errorf("--repeats %d: run each cell at least once", g.Repeats))
	}
	return errors.Join(errs...)
}

func dup(ds []time.Duration) string {
	seen := map[time.Duration]bool{}
	for _, d := range ds {
		if seen[d] {
			return d.String()
		}
		seen[d] = true
	}
	return ""
}

// Cell is one point of the grid.
type Cell struct {
	Version    string        `json:"version"`
	PreVoteOff bool          `json:"prevote_off,omitempty"`
	Election   time.Duration `json:"election"`
	Heartbeat  time.Duration `json:"heartbeat"`
	Fsync      time.Duration `json:"fsync"`
	// Repeat counts from 1.
	Repeat int `json:"repeat"`
}

// ID names the cell in file names: v3.6.16-e1s-f10ms-r1, with
// "-noprevote" after the version when pre-vote is off.
func (c Cell) ID() string {
	pv := ""
	if c.PreVoteOff {
		pv = "-noprevote"
	}
	return fmt.Sprintf("%s%s-e%s-f%s-r%d", c.Version, pv, c.Election, c.Fsync, c.Repeat)
}

// Series is the cell's heatmap: its version, with pre-vote off when it is.
func (c Cell) Series() string {
	if c.PreVoteOff {
		return c.Version + " pre-vote off"
	}
	return c.Version
}

func (c Cell) String() string {
	pv := ""
	if c.PreVoteOff {
		pv = ", pre-vote off"
	}
	rep := ""
	if c.Repeat > 1 {
		rep = fmt.Sprintf(", repeat %d", c.Repeat)
	}
	return fmt.Sprintf("etcd %s%s, fsync %s, election %s (heartbeat %s)%s", c.Version, pv, c.Fsync, c.Election, c.Heartbeat, rep)
}

// hasPreVote reports whether version turns pre-vote on by default: 3.5
// and later; 3.4 has it off already, so its "pre-vote off" cells would
// repeat the plain ones.
func hasPreVote(version string) bool {
	var minor int
	fmt.Sscanf(strings.TrimPrefix(version, "v3."), "%d", &minor)
	return minor >= 5
}

// Cells are the grid's cells in the order they run: by version (as
// given), pre-vote on before off, then repeat, then fsync latency and
// election timeout each ascending. Cells in a row on one fsync latency
// and version share the disk's profile, its probe and the etcd install
// (slowdisk.Session), so the election timeout varies fastest. The order
// is the same for the same grid on every machine, which sharding relies
// on.
func (g Grid) Cells() []Cell {
	fsync, election := slices.Clone(g.Fsync), slices.Clone(g.Election)
	slices.Sort(fsync)
	slices.Sort(election)
	var out []Cell
	for _, v := range g.Versions {
		prevote := []bool{false}
		if g.PreVote && hasPreVote(v) {
			prevote = append(prevote, true)
		}
		for _, off := range prevote {
			for r := 1; r <= max(1, g.Repeats); r++ {
				for _, f := range fsync {
					for _, e := range election {
						out = append(out, Cell{Version: v, PreVoteOff: off, Election: e,
							Heartbeat: g.heartbeat(e), Fsync: f, Repeat: r})
					}
				}
			}
		}
	}
	return out
}

func (g Grid) heartbeat(election time.Duration) time.Duration {
	return (election / time.Duration(max(1, g.HeartbeatRatio))).Truncate(time.Millisecond)
}

// Shard is the i-th of n parts of a grid (1 ≤ i ≤ n).
type Shard struct{ I, N int }

// ParseShard reads --shard i/n.
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if s == "" {
		return Shard{1, 1}, nil
	}
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.I, &sh.N); err != nil || fmt.Sprintf("%d/%d", sh.I, sh.N) != s {
		return Shard{}, fmt.Errorf("--shard %q: want i/n such as 2/4 (the second of four shards)", s)
	}
	if sh.N < 1 || sh.I < 1 || sh.I > sh.N {
		return Shard{}, fmt.Errorf("--shard %s: want 1 ≤ i ≤ n, such as 1/%d", s, max(1, sh.N))
	}
	return sh, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Of returns the shard's cells: every n-th cell of the order, starting at
// the i-th. Dealing the cells round-robin spreads slow and fast cells
// (short and long election timeouts) evenly over the shards, and every
// cell is in exactly one shard for any n.
func (s Shard) Of(cells []Cell) []Cell {
	var out []Cell
	for k, c := range cells {
		if k%s.N == s.I-1 {
			out = append(out, c)
		}
	}
	return out
}
