package thresholdmap

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

func smallGrid() Grid {
	return Grid{Fsync: []time.Duration{10 * time.Millisecond, time.Second}, Election: []time.Duration{time.Second, 10 * time.Second},
		HeartbeatRatio: 10, Versions: []string{"v3.6.16"}, CellDuration: 30 * time.Second, Repeats: 1}
}

func ids(cells []Cell) []string {
	var out []string
	for _, c := range cells {
		out = append(out, c.ID())
	}
	return out
}

func TestResumeRunsOnlyTheCellsWithoutAFile(t *testing.T) {
	g := testGrid()
	dir := t.TempDir()
	d, err := OpenDir(dir, g, Shard{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	cells := g.Cells()
	all := resultsFor(g, physics(10))
	// k finished cells, not the first ones: resume must not count.
	for _, k := range []int{0, 3, 4, 17} {
		if err := d.Save(all[cells[k].ID()]); err != nil {
			t.Fatal(err)
		}
	}
	// A cut-off cell's evidence without its file does not count as done.
	os.MkdirAll(filepath.Join(dir, EvidenceDir, cells[1].ID()), 0o755)
	f := &fakeRunner{outcome: physics(10)}
	m, err := Run(t.Context(), Options{Dir: d, Runner: f})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for k, c := range cells {
		if !slices.Contains([]int{0, 3, 4, 17}, k) {
			want = append(want, c.ID())
		}
	}
	if !slices.Equal(f.ran, want) {
		t.Errorf("ran %v\nwant %v", f.ran, want)
	}
	if len(m.Results) != len(cells) || len(m.Missing) != 0 {
		t.Errorf("map has %d results and %d missing, want %d and 0", len(m.Results), len(m.Missing), len(cells))
	}
	// A second run finds nothing to do.
	f2 := &fakeRunner{outcome: physics(10)}
	if _, err := Run(t.Context(), Options{Dir: d, Runner: f2}); err != nil || len(f2.ran) != 0 {
		t.Errorf("second run ran %v (%v)", f2.ran, err)
	}
	for _, name := range []string{MapMarkdown, MapJSON, HeatmapFile("v3.6.16"), HeatmapFile("v3.6.16 pre-vote off"), HeatmapFile("v3.4.23")} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("map file: %v", err)
		}
	}
}

func TestACutOffCellRunsAgainAndTheMapIsValid(t *testing.T) {
	g := smallGrid()
	dir := t.TempDir()
	d, err := OpenDir(dir, g, Shard{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	cells := g.Cells()
	ctx, cancel := context.WithCancel(t.Context())
	f := &fakeRunner{outcome: physics(10), cutOff: cells[2].ID(), cancel: cancel}
	m, err := Run(ctx, Options{Dir: d, Runner: f})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v, want interrupted", err)
	}
	if got := ids(m.Missing); !slices.Equal(got, ids(cells[2:])) {
		t.Errorf("missing %v, want %v", got, ids(cells[2:]))
	}
	// The partial map on disk is valid and says what is missing.
	b, err := os.ReadFile(filepath.Join(dir, MapJSON))
	if err != nil {
		t.Fatal(err)
	}
	var mj struct {
		Cells   []json.RawMessage `json:"cells"`
		Missing []string          `json:"missing"`
	}
	if err := json.Unmarshal(b, &mj); err != nil || len(mj.Cells) != 2 || !slices.Equal(mj.Missing, ids(cells[2:])) {
		t.Errorf("map.json: %d cells, missing %v (%v)", len(mj.Cells), mj.Missing, err)
	}
	f2 := &fakeRunner{outcome: physics(10)}
	if _, err := Run(t.Context(), Options{Dir: d, Runner: f2}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f2.ran, ids(cells[2:])) {
		t.Errorf("resumed run ran %v, want %v", f2.ran, ids(cells[2:]))
	}
}

func TestAFailedCellLetsTheOthersRunAndHasNoFile(t *testing.T) {
	g := smallGrid()
	d, err := OpenDir(t.TempDir(), g, Shard{1, 1})
	if err != nil {
		t.Fatal(err)
	}
	bad := g.Cells()[1].ID()
	f := &fakeRunner{outcome: physics(10), fail: map[string]bool{bad: true}}
	m, err := Run(t.Context(), Options{Dir: d, Runner: f})
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "handshake timeout") {
		t.Errorf("error %v, want one naming %s and its cause", err, bad)
	}
	if len(f.ran) != 4 || f.resets != 1 || len(m.Results) != 3 || ids(m.Missing)[0] != bad {
		t.Errorf("ran %v, %d resets, %d results, missing %v", f.ran, f.resets, len(m.Results), ids(m.Missing))
	}
	f2 := &fakeRunner{outcome: physics(10)}
	if _, err := Run(t.Context(), Options{Dir: d, Runner: f2}); err != nil || !slices.Equal(f2.ran, []string{bad}) {
		t.Errorf("resume ran %v (%v), want only %s", f2.ran, err, bad)
	}
}

func TestOpenDirRefusesAnotherGridOrShard(t *testing.T) {
	dir := t.TempDir()
	g := smallGrid()
	if _, err := OpenDir(dir, g, Shard{1, 2}); err != nil {
		t.Fatal(err)
	}
	// The same grid with its values in another order resumes.
	same := g
	same.Fsync = []time.Duration{time.Second, 10 * time.Millisecond}
	if _, err := OpenDir(dir, same, Shard{1, 2}); err != nil {
		t.Errorf("same grid: %v", err)
	}
	other := g
	other.CellDuration = time.Minute
	if _, err := OpenDir(dir, other, Shard{1, 2}); err == nil || !strings.Contains(err.Error(), "another grid") {
		t.Errorf("other grid: %v", err)
	}
	if _, err := OpenDir(dir, g, Shard{2, 2}); err == nil || !strings.Contains(err.Error(), "--shard 1/2") {
		t.Errorf("other shard: %v", err)
	}
}

func TestResultFileRoundTrips(t *testing.T) {
	g := smallGrid()
	for _, o := range []string{Stable, Unstable, Never} {
		r := resultsFor(g, func(Cell) string { return o })[g.Cells()[3].ID()]
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Result
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Cell != r.Cell || back.Outcome() != o || back.Wall != r.Wall || back.Arm.Elections != r.Arm.Elections ||
			back.Arm.TimeToFirstLeader != r.Arm.TimeToFirstLeader || back.Arm.FsyncP99 != r.Arm.FsyncP99 {
			t.Errorf("%s: read back %+v\nwrote %+v", o, back, r)
		}
	}
}

func TestETA(t *testing.T) {
	g := smallGrid()
	cells := g.Cells() // e1s f10ms, e1s f1s, e10s f10ms, e10s f1s
	if _, ok := ETA(nil, cells); ok {
		t.Error("an ETA before any cell")
	}
	measured := []Result{{Cell: cells[0], Wall: 40 * time.Second}, {Cell: cells[1], Wall: 100 * time.Second}}
	// Per fsync: 40 s for the 10 ms cell, 100 s for the 1 s one.
	if eta, _ := ETA(measured, cells[2:]); eta != 140*time.Second {
		t.Errorf("ETA %s, want 2m20s", eta)
	}
	// A latency not measured yet takes the mean.
	odd := Cell{Fsync: 500 * time.Millisecond}
	if eta, _ := ETA(measured, []Cell{odd}); eta != 70*time.Second {
		t.Errorf("ETA %s, want 1m10s", eta)
	}
}

func TestOverhead(t *testing.T) {
	g := smallGrid()
	rs := []Result{
		{Cell: g.Cells()[0], Wall: 50 * time.Second},
		{Cell: g.Cells()[1], Wall: 70 * time.Second},
	}
	rs[0].Arm.Phases.ObservationEnd = measure.Seconds(40 * time.Second) // 10 s beyond
	rs[1].Arm.Phases.ObservationEnd = measure.Seconds(50 * time.Second) // 20 s beyond
	over, share := Overhead(rs, 30*time.Second)
	if over != 15*time.Second || share != 0.5 {
		t.Errorf("overhead %s (%.2f), want 15s (0.50)", over, share)
	}
	if o, s := Overhead(nil, time.Minute); o != 0 || s != 0 {
		t.Errorf("no cells: %s %v", o, s)
	}
}
