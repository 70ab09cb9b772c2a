package slowdisk

import (
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/report"
)

// Every report written says how long the run had taken by then, and the
// report Run returns says so too.
func TestReportsSayTheRunsElapsedTime(t *testing.T) {
	r, writes, _ := armsRunner(Arms, nil, nil)
	started := time.Now().Add(-time.Minute)
	rep := &report.Report{Started: started}
	if err := r.runArms(t.Context(), rep); err != nil {
		t.Fatal(err)
	}
	if len(*writes) != len(Arms) {
		t.Fatalf("report written %d times, want %d", len(*writes), len(Arms))
	}
	prev := time.Duration(0)
	for i, w := range *writes {
		if d := w.Elapsed.D(); d < time.Minute || d < prev || d > time.Since(started) {
			t.Errorf("report %d: elapsed %s, want ≥ 1 min, ≥ the previous report's %s and ≤ now", i, d, prev)
		}
		prev = w.Elapsed.D()
	}
	if rep.Elapsed.D() != prev {
		t.Errorf("returned report's elapsed %s, want the last written report's %s", rep.Elapsed.D(), prev)
	}
}
