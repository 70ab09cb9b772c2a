package thresholdmap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// shardDirs runs the grid as n shards with the fake lab, each in its own
// directory, and returns the directories.
func shardDirs(t *testing.T, g Grid, n int) []string {
	t.Helper()
	var dirs []string
	for i := 1; i <= n; i++ {
		dir := t.TempDir()
		d, err := OpenDir(dir, g, Shard{i, n})
		if err != nil {
			t.Fatal(err)
		}
		all := resultsFor(g, physics(10))
		for _, c := range d.Shard.Of(g.Cells()) {
			if err := d.Save(all[c.ID()]); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

func TestMergedShardsEqualOneRun(t *testing.T) {
	g := testGrid()
	single, err := Merge(shardDirs(t, g, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3, 7} {
		merged, err := Merge(shardDirs(t, g, n)...)
		if err != nil {
			t.Fatalf("%d shards: %v", n, err)
		}
		if len(merged.Missing) != 0 || !reflect.DeepEqual(merged, single) {
			t.Errorf("%d shards merged differ from one run: %d results, %d missing", n, len(merged.Results), len(merged.Missing))
		}
	}
	// Missing shards give a partial map that names the missing cells.
	part, err := Merge(shardDirs(t, g, 3)[:2]...)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(Shard{3, 3}.Of(g.Cells())); len(part.Missing) != want {
		t.Errorf("%d missing, want %d", len(part.Missing), want)
	}
	// The merged map written out reads back as the same map.
	out := filepath.Join(t.TempDir(), "merged")
	if err := WriteMerged(out, single); err != nil {
		t.Fatal(err)
	}
	again, err := Merge(out)
	if err != nil || !reflect.DeepEqual(again, single) {
		t.Errorf("merged directory reads back differently (%v)", err)
	}
}

func TestMergeRefusesConflictsAndOtherGrids(t *testing.T) {
	g := smallGrid()
	dirs := shardDirs(t, g, 2)
	cell := Shard{1, 2}.Of(g.Cells())[0]
	src := filepath.Join(dirs[0], CellsDir, cell.ID()+".json")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The same file in two directories (an artifact downloaded twice) is
	// one cell.
	if err := os.WriteFile(filepath.Join(dirs[1], CellsDir, cell.ID()+".json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if m, err := Merge(dirs...); err != nil || len(m.Results) != len(g.Cells()) {
		t.Errorf("an identical duplicate: %v", err)
	}
	// Two measurements of one cell that disagree are refused.
	d, _ := OpenDir(dirs[1], g, Shard{2, 2})
	r := resultsFor(g, func(Cell) string { return Unstable })[cell.ID()]
	if err := d.Save(r); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(dirs...); err == nil || !strings.Contains(err.Error(), "measured twice with different results") ||
		!strings.Contains(err.Error(), cell.ID()) {
		t.Errorf("a conflicting duplicate: %v", err)
	}
	// Even when the outcomes agree, other figures make a conflict.
	r = resultsFor(g, physics(10))[cell.ID()]
	r.Arm.Elections++
	d.Save(r)
	if _, err := Merge(dirs...); err == nil || !strings.Contains(err.Error(), "measured twice") {
		t.Errorf("a duplicate with other figures: %v", err)
	}
	// Shards of another grid (another version) are refused.
	other := g
	other.Versions = []string{"v3.4.23"}
	otherDirs := shardDirs(t, other, 2)
	if _, err := Merge(shardDirs(t, g, 2)[0], otherDirs[1]); err == nil || !strings.Contains(err.Error(), "merge shards of one grid only") {
		t.Errorf("another grid: %v", err)
	}
	// A cell file that is not of the grid is refused.
	stray := shardDirs(t, g, 1)[0]
	foreign := resultsFor(other, physics(10))[other.Cells()[0].ID()]
	dd := &Dir{Path: stray, Grid: g, Shard: Shard{1, 1}}
	dd.Save(foreign)
	if _, err := Merge(stray); err == nil || !strings.Contains(err.Error(), "not of the grid") {
		t.Errorf("a foreign cell: %v", err)
	}
	if _, err := Merge(t.TempDir()); err == nil || !strings.Contains(err.Error(), "threshold-map --out directory") {
		t.Errorf("not a map directory: %v", err)
	}
}

// TestMergeChecksTheGridItReads: a grid.json whose version would become a
// path outside the output (heatmap-VERSION.svg) is refused, as the flag is.
func TestMergeChecksTheGridItReads(t *testing.T) {
	dir := t.TempDir()
	b, err := json.Marshal(header{Grid: Grid{Fsync: []time.Duration{time.Second}, Election: []time.Duration{time.Second},
		HeartbeatRatio: 10, Versions: []string{"../../etc/x"}, CellDuration: 30 * time.Second, Repeats: 1}, Shard: "1/1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, GridFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(dir); err == nil || !strings.Contains(err.Error(), "not an etcd version") {
		t.Errorf("Merge of a grid with version ../../etc/x = %v, want it refused", err)
	}
}
