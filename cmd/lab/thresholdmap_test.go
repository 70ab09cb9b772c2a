package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/thresholdmap"
)

// TestThresholdMapRefusesBadFlagsUpFront runs the real binary: every bad
// flag is named, exit 2, before the lab is opened (there is none here,
// and the message would otherwise be that it does not exist).
func TestThresholdMapRefusesBadFlagsUpFront(t *testing.T) {
	b := newBattery(t)
	for _, c := range []badInput{
		{args: []string{"scenario", "threshold-map", "--fsync", "10ms,fast"}, want: []string{`--fsync: "fast" is not a positive duration`}},
		{args: []string{"scenario", "threshold-map", "--fsync", "5ms", "--election", "60s", "--versions", "3.6"},
			want: []string{"--fsync 5ms is out of", "--election 1m0s", `--versions: "3.6"`}},
		{args: []string{"scenario", "threshold-map", "--shard", "3/2"}, want: []string{"--shard 3/2"}},
		{args: []string{"scenario", "threshold-map", "--repeats", "0", "--heartbeat-ratio", "2"}, want: []string{"--repeats 0", "--heartbeat-ratio 2"}},
		{args: []string{"scenario", "threshold-map", "--cell-duration", "1s"}, want: []string{"--cell-duration 1s"}},
		{args: []string{"report", "merge"}, want: []string{"name the shard directories"}},
		{args: []string{"report", "merge", "nowhere"}, want: []string{"merging nowhere", "threshold-map --out directory"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, stderr, code := b.run(t, c)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "does not exist") {
				t.Errorf("the lab was looked for before the flags were checked:\n%s", stderr)
			}
		})
	}
}

// TestReportMergeWritesOneMap merges two shard directories with the real
// binary.
func TestReportMergeWritesOneMap(t *testing.T) {
	b := newBattery(t)
	g := thresholdmap.Grid{Fsync: []time.Duration{10 * time.Millisecond, time.Second}, Election: []time.Duration{time.Second},
		HeartbeatRatio: 10, Versions: []string{"v3.6.16"}, CellDuration: 30 * time.Second, Repeats: 1}
	var dirs []string
	for i := 1; i <= 2; i++ {
		dir := filepath.Join(b.root, "shard", string(rune('0'+i)))
		d, err := thresholdmap.OpenDir(dir, g, thresholdmap.Shard{I: i, N: 2})
		if err != nil {
			t.Fatal(err)
		}
		c := thresholdmap.Shard{I: i, N: 2}.Of(g.Cells())[0]
		if err := d.Save(thresholdmap.Result{Cell: c, Wall: time.Minute}); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	out := filepath.Join(b.root, "merged")
	stdout, stderr, code := b.run(t, badInput{args: append([]string{"report", "merge", "--out", out}, dirs...)})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 of 2 cells measured") {
		t.Errorf("stdout: %s", stdout)
	}
	for _, f := range []string{thresholdmap.MapMarkdown, thresholdmap.MapJSON, thresholdmap.HeatmapFile("v3.6.16")} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
