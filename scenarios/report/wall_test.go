package report

import (
	"strings"
	"testing"

	"github.com/kthw-lab/lab/scenarios/measure"
)

func TestWallLine(t *testing.T) {
	w := wall(3.96, 12.04, 1.2, 30.2, 120, 90, 20.44, 2.7)
	got := WallLine(w)
	want := "4 min 41 s: reset 4 s · etcd install 12 s · profile 1.2 s · probe 30.2 s · bootstrap 120 s · " +
		"observation 90 s · check perf 20.4 s · collect 2.7 s"
	if got != want {
		t.Errorf("WallLine =\n%q, want\n%q", got, want)
	}
	// A step not taken is left out, not shown as 0 s.
	if got := WallLine(wall(4, -1, 1, 5, 3, 90, 20, 2)); strings.Contains(got, "etcd install") {
		t.Errorf("WallLine of an arm without an etcd install: %q", got)
	}
}

// A report from before wall times were recorded has no wall-time section.
func TestWallSectionOnlyWhenRecorded(t *testing.T) {
	r := story()
	for i := range r.Arms {
		r.Arms[i].WallTimes = measure.WallTimes{}
	}
	r.Elapsed = 0
	if s := wallSection(r); s != "" {
		t.Errorf("wall section of an untimed report: %q", s)
	}
	r.Elapsed = dur(45)
	if s := wallSection(r); !strings.Contains(s, "The run took 45 s") {
		t.Errorf("wall section with only the run's time: %q", s)
	}
}
