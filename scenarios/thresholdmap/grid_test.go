package thresholdmap

import (
	"strings"
	"testing"
	"time"
)

func testGrid() Grid {
	return Grid{
		Fsync:          []time.Duration{time.Second, 10 * time.Millisecond, 250 * time.Millisecond},
		Election:       []time.Duration{10 * time.Second, time.Second},
		HeartbeatRatio: 10, Versions: []string{"v3.6.16", "v3.4.23"}, PreVote: true,
		CellDuration: 30 * time.Second, Repeats: 2,
	}
}

func TestCellsAreOrderedAndUnique(t *testing.T) {
	g := testGrid()
	cells := g.Cells()
	// 3.6: pre-vote on and off; 3.4 has it off already: 3 series × 2 repeats × 2 × 3.
	if want := 3 * 2 * 2 * 3; len(cells) != want {
		t.Fatalf("%d cells, want %d", len(cells), want)
	}
	ids := map[string]bool{}
	for _, c := range cells {
		if ids[c.ID()] {
			t.Errorf("cell %s twice", c.ID())
		}
		ids[c.ID()] = true
		if c.Heartbeat != c.Election/10 {
			t.Errorf("%s: heartbeat %s", c.ID(), c.Heartbeat)
		}
		if c.Version == "v3.4.23" && c.PreVoteOff {
			t.Errorf("%s: 3.4 has pre-vote off already", c.ID())
		}
	}
	// One fsync latency at a time (its profile and probe serve every
	// election timeout on it), the election timeout varying fastest.
	want := []string{"v3.6.16-e1s-f10ms-r1", "v3.6.16-e10s-f10ms-r1", "v3.6.16-e1s-f250ms-r1", "v3.6.16-e10s-f250ms-r1"}
	for i, id := range want {
		if cells[i].ID() != id {
			t.Errorf("cell %d is %s, want %s", i, cells[i].ID(), id)
		}
	}
	if last := cells[len(cells)-1].ID(); last != "v3.4.23-e10s-f1s-r2" {
		t.Errorf("last cell %s", last)
	}
	if cells[12].ID() != "v3.6.16-noprevote-e1s-f10ms-r1" {
		t.Errorf("cell 12 is %s, want the first pre-vote off cell", cells[12].ID())
	}
	// The order does not depend on the order the values were given in.
	g.Fsync = []time.Duration{10 * time.Millisecond, 250 * time.Millisecond, time.Second}
	for i, c := range g.Cells() {
		if c != cells[i] {
			t.Fatalf("cell %d: %s, was %s", i, c.ID(), cells[i].ID())
		}
	}
}

func TestEveryCellIsInExactlyOneShard(t *testing.T) {
	cells := testGrid().Cells()
	for n := 1; n <= len(cells)+3; n++ {
		seen := map[string]int{}
		for i := 1; i <= n; i++ {
			part := Shard{i, n}.Of(cells)
			if len(part) < len(cells)/n || len(part) > len(cells)/n+1 {
				t.Errorf("shard %d/%d has %d of %d cells: not balanced", i, n, len(part), len(cells))
			}
			for _, c := range part {
				seen[c.ID()]++
			}
		}
		for _, c := range cells {
			if seen[c.ID()] != 1 {
				t.Errorf("n=%d: cell %s is in %d shards", n, c.ID(), seen[c.ID()])
			}
		}
		if len(seen) != len(cells) {
			t.Errorf("n=%d: %d cells in the shards, want %d", n, len(seen), len(cells))
		}
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"": {1, 1}, "1/1": {1, 1}, "2/4": {2, 4}, "4/4": {4, 4}} {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0/2", "3/2", "1/0", "a/b", "1/2/3", "2", "-1/2", "1/2 "} {
		if _, err := ParseShard(in); err == nil || !strings.Contains(err.Error(), "--shard") {
			t.Errorf("ParseShard(%q): %v, want an error naming --shard", in, err)
		}
	}
}

func TestGridCheckNamesEveryProblem(t *testing.T) {
	if err := testGrid().Check(); err != nil {
		t.Fatalf("a good grid: %v", err)
	}
	bad := Grid{
		Fsync:          []time.Duration{5 * time.Millisecond, time.Second, time.Second},
		Election:       []time.Duration{60 * time.Second, 20 * time.Millisecond},
		HeartbeatRatio: 3, Versions: []string{"3.6", "v3.6.16", "v3.6.16"}, CellDuration: time.Second, Repeats: 0,
	}
	err := bad.Check()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--fsync 5ms is out of", "--fsync names 1s twice", "--heartbeat-ratio 3", "--election 1m0s: etcd accepts at most",
		`--versions: "3.6"`, "--versions names v3.6.16 twice", "--cell-duration 1s", "--repeats 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := (Grid{HeartbeatRatio: 10, Versions: []string{"v3.6.16"}, CellDuration: time.Minute, Repeats: 1}).Check(); err == nil ||
		!strings.Contains(err.Error(), "--fsync: give") || !strings.Contains(err.Error(), "--election: give") {
		t.Errorf("empty axes: %v", err)
	}
}
