package thresholdmap

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Point is one (series, election, fsync) of the map with its repeats.
type Point struct {
	Series   string
	Election time.Duration
	Fsync    time.Duration
	Results  []Result
}

// Outcome is the point's: stable when every repeat was, never elected when
// no repeat elected, slow start when every repeat was stable or a slow
// start, unstable otherwise; "" with no results.
func (p Point) Outcome() string {
	if len(p.Results) == 0 {
		return ""
	}
	n := map[string]int{}
	for _, r := range p.Results {
		n[r.Outcome()]++
	}
	switch len(p.Results) {
	case n[Stable]:
		return Stable
	case n[Never]:
		return Never
	case n[Stable] + n[SlowStart]:
		return SlowStart
	}
	return Unstable
}

// Count says how many repeats had the outcome.
func (p Point) Count(outcome string) int {
	n := 0
	for _, r := range p.Results {
		if r.Outcome() == outcome {
			n++
		}
	}
	return n
}

// FsyncP99 is the largest probe p99 of the point's repeats (the fsync
// round trip the cell really had); the profile's latency when no probe
// measured it.
func (p Point) FsyncP99() time.Duration {
	var out time.Duration
	for _, r := range p.Results {
		out = max(out, r.Arm.FsyncP99.D())
	}
	return cmp.Or(out, p.Fsync)
}

// Series are the map's heatmaps in the grid's order: each version, and
// after it the same with pre-vote off when the grid has those cells.
func (m Map) Series() []string {
	var out []string
	for _, c := range m.Grid.Cells() {
		if !slices.Contains(out, c.Series()) {
			out = append(out, c.Series())
		}
	}
	return out
}

// Points returns the series' points, row by row: elections ascending,
// fsync ascending within a row; points with no result included.
func (m Map) Points(series string) [][]Point {
	fsync, election := slices.Clone(m.Grid.Fsync), slices.Clone(m.Grid.Election)
	slices.Sort(fsync)
	slices.Sort(election)
	rows := make([][]Point, len(election))
	for i, e := range election {
		for _, f := range fsync {
			p := Point{Series: series, Election: e, Fsync: f}
			for _, r := range m.Results {
				if r.Cell.Series() == series && r.Cell.Election == e && r.Cell.Fsync == f {
					p.Results = append(p.Results, r)
				}
			}
			rows[i] = append(rows[i], p)
		}
	}
	return rows
}

// Edge is the measured boundary in one row (one election timeout): the
// largest fsync latency up to which every measured cell was stable, and
// the next one, which was not. Zero LastStable: not even the fastest
// disk was stable; zero FirstUnstable: every cell of the row was.
type Edge struct {
	Election                  time.Duration
	LastStable, FirstUnstable time.Duration
}

// Boundary is the edge of every row of the series. Cells not measured
// are skipped: the edge is between the measured ones.
func (m Map) Boundary(series string) []Edge {
	var out []Edge
	for _, row := range m.Points(series) {
		if len(row) == 0 {
			continue
		}
		e := Edge{Election: row[0].Election}
		for _, p := range row {
			switch p.Outcome() {
			case "":
				continue
			case Stable:
				if e.FirstUnstable == 0 {
					e.LastStable = p.Fsync
					continue
				}
			}
			if e.FirstUnstable == 0 {
				e.FirstUnstable = p.Fsync
			}
		}
		out = append(out, e)
	}
	return out
}

// Ratio is the series' measured rule: the smallest election timeout, in
// multiples of the fsync p99, from which every measured cell was stable.
// Cells are ordered by election / fsync p99; X is the ratio of the stable
// cell just above the highest ratio any unstable cell had. ok is false
// when no cell at or above that was stable (the grid did not reach the
// edge); unstable reports whether any cell was not stable (when none was,
// X is the smallest ratio measured, a bound rather than an edge).
func (m Map) Ratio(series string) (x float64, ok, unstable bool) {
	x, _, ok, unstable = m.ratios(series)
	return x, ok, unstable
}

// ratios is Ratio and, beside it, the highest ratio of a cell that was not
// stable (-1 when none): the edge lies between the two.
func (m Map) ratios(series string) (x, worst float64, ok, unstable bool) {
	worst = -1.0
	var stable []float64
	for _, row := range m.Points(series) {
		for _, p := range row {
			if p.Outcome() == "" {
				continue
			}
			r := float64(p.Election) / float64(p.FsyncP99())
			if p.Outcome() == Stable {
				stable = append(stable, r)
			} else {
				worst = max(worst, r)
			}
		}
	}
	slices.Sort(stable)
	for _, r := range stable {
		if r > worst {
			return r, worst, true, worst >= 0
		}
	}
	return 0, worst, false, worst >= 0
}

// Conclusion is the series' line: what election timeout it needed here.
func (m Map) Conclusion(series string) string {
	x, worst, ok, unstable := m.ratios(series)
	switch {
	case !ok && !unstable:
		return fmt.Sprintf("etcd %s: no cell measured yet", series)
	case !ok:
		return fmt.Sprintf("etcd %s: no cell was stable at or above the largest election/fsync ratio of a cell that was not: the grid did not reach its edge (try longer election timeouts)", series)
	case !unstable:
		return fmt.Sprintf("etcd %s: stable in every cell, down to election = %s × fsync p99 (the grid did not find its edge)", series, ratio(x))
	}
	return fmt.Sprintf("on this host, etcd %s needs election ≥ %s × fsync p99: stable from there, not at %s × (the edge lies between; etcd's guidance: 10 × the round trip)",
		series, ratio(x), ratio(worst))
}

func ratio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}
