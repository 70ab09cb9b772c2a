package thresholdmap

import (
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

func mapOf(g Grid, outcome func(Cell) string) Map { return Build(g, resultsFor(g, outcome)) }

func TestBoundary(t *testing.T) {
	g := Grid{Fsync: []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, time.Second},
		Election: []time.Duration{time.Second, 2500 * time.Millisecond, 10 * time.Second}, HeartbeatRatio: 10,
		Versions: []string{"v3.4.23"}, CellDuration: time.Minute, Repeats: 1}
	m := mapOf(g, physics(10))
	ms := time.Millisecond
	want := []Edge{
		{Election: time.Second, LastStable: 100 * ms, FirstUnstable: 250 * ms},
		{Election: 2500 * ms, LastStable: 250 * ms, FirstUnstable: time.Second},
		{Election: 10 * time.Second, LastStable: time.Second},
	}
	got := m.Boundary("v3.4.23")
	if len(got) != len(want) {
		t.Fatalf("boundary %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// A stable cell beyond an unstable one (noise) does not move the edge.
	noisy := mapOf(g, func(c Cell) string {
		if c.Election == time.Second && c.Fsync == time.Second {
			return Stable
		}
		return physics(10)(c)
	})
	if e := noisy.Boundary("v3.4.23")[0]; e.LastStable != 100*ms || e.FirstUnstable != 250*ms {
		t.Errorf("noisy row: %+v", e)
	}
	// Nothing stable in a row; a row not measured.
	none := mapOf(g, func(Cell) string { return Never })
	if e := none.Boundary("v3.4.23")[0]; e.LastStable != 0 || e.FirstUnstable != 10*ms {
		t.Errorf("never-elected row: %+v", e)
	}
	empty := Build(g, nil)
	if e := empty.Boundary("v3.4.23")[2]; e != (Edge{Election: 10 * time.Second}) {
		t.Errorf("empty row: %+v", e)
	}
}

func TestRatioAndConclusion(t *testing.T) {
	g := Grid{Fsync: []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second},
		Election: []time.Duration{time.Second, 5 * time.Second, 10 * time.Second}, HeartbeatRatio: 10,
		Versions: []string{"v3.6.16"}, CellDuration: time.Minute, Repeats: 1}
	// Stable from 20 × fsync: ratios (with the fixture's p99 = 1.1 × fsync)
	// stable: 10s/110ms=90.9, 5s/110ms=45.5, 1s/110ms=9.1 unstable under 20;
	// 10s/1.1s=9.1 unstable, 5s/1.1s=4.5 unstable.
	m := mapOf(g, physics(20))
	x, ok, unstable := m.Ratio("v3.6.16")
	if !ok || !unstable || x < 45 || x > 46 {
		t.Errorf("ratio %v (ok %t, unstable %t), want 45.5", x, ok, unstable)
	}
	if c := m.Conclusion("v3.6.16"); !strings.Contains(c, "needs election ≥ 45 × fsync p99: stable from there, not at 9.1 ×") {
		t.Errorf("conclusion %q", c)
	}
	all := mapOf(g, func(Cell) string { return Stable })
	if c := all.Conclusion("v3.6.16"); !strings.Contains(c, "stable in every cell, down to election = 0.9 × fsync p99") {
		t.Errorf("all stable: %q", c)
	}
	nothing := mapOf(g, func(Cell) string { return Unstable })
	if _, ok, _ := nothing.Ratio("v3.6.16"); ok {
		t.Error("a ratio with no stable cell")
	}
	if c := nothing.Conclusion("v3.6.16"); !strings.Contains(c, "did not reach its edge") {
		t.Errorf("nothing stable: %q", c)
	}
}

func TestPointOutcomeOverRepeats(t *testing.T) {
	c := Cell{Version: "v3.6.16", Election: time.Second, Fsync: time.Second}
	mk := func(outcomes ...string) Point {
		p := Point{}
		for i, o := range outcomes {
			c.Repeat = i + 1
			p.Results = append(p.Results, Result{Cell: c, Arm: arm(c, o)})
		}
		return p
	}
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""}, {[]string{Stable, Stable}, Stable}, {[]string{Stable, Unstable}, Unstable},
		{[]string{Never, Never}, Never}, {[]string{Never, Stable}, Unstable},
		{[]string{Stable, SlowStart}, SlowStart}, {[]string{SlowStart, SlowStart}, SlowStart},
		{[]string{SlowStart, Unstable}, Unstable}, {[]string{SlowStart, Never}, Unstable},
	} {
		if got := mk(tc.in...).Outcome(); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.in, got, tc.want)
		}
	}
	if l := cellLabel(mk(Stable, Unstable, Never)); l[0] != "leader 2 s/2 s (1 never)" || l[1] != "1–40 elections, 1/3 stable" {
		t.Errorf("label %q", l)
	}
	if l := cellLabel(mk(Stable, SlowStart, Unstable)); l[1] != "1–9 elections, 1/3 stable, 1 slow start" {
		t.Errorf("label %q", l)
	}
}

// TestOutcomeSlowStart: a cell that kept its leader but elected it later
// than ten election timeouts is a slow start, on the same rule as the
// slow-disk headline's "struggled"; at ten it is still stable, and a cell
// that lost its leader is unstable however it started.
func TestOutcomeSlowStart(t *testing.T) {
	c := Cell{Version: "v3.6.16", Election: time.Second, Fsync: time.Second, Repeat: 1}
	a := arm(c, Stable)
	a.TimeToFirstLeader = measure.Seconds(10 * time.Second)
	if got := Outcome(a); got != Stable {
		t.Errorf("first leader after 10 × election: %q, want stable", got)
	}
	a.TimeToFirstLeader = measure.Seconds(10*time.Second + time.Millisecond)
	if got := Outcome(a); got != SlowStart {
		t.Errorf("first leader after 10 s 1 ms: %q, want slow start", got)
	}
	u := arm(c, Unstable)
	u.TimeToFirstLeader = measure.Seconds(20 * time.Second)
	if got := Outcome(u); got != Unstable {
		t.Errorf("a late first leader lost: %q, want unstable", got)
	}
}
