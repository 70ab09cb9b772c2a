package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// observed is an arm built from the recorded 3.6 evidence: the journal of
// every member, k8smaster1's metrics captured before and after a slow
// window (standing in for the end of the observation and the end of check
// perf), status rounds through all three phases, and a workload.
func observed(t *testing.T) Observation {
	t.Helper()
	const a, b = 0xd24ef662135c0288, 0xca3156e4c1572ddc
	return Observation{
		// The journal's first election is at 22:49:05 (see
		// TestCountByPhase3_6).
		Start:   time.Date(2026, 11, 25, 22, 49, 5, 0, time.UTC),
		Windows: Windows{ObservationStart: 10 * time.Second, ObservationEnd: 40 * time.Second, End: 50 * time.Second},
		Timeline: Timeline{End: 50 * time.Second, Samples: []Sample{
			{At: 0, Err: errors.New("no member serves clients yet")},
			{At: 3 * time.Second, Member: "k8smaster0", ID: a, Term: 2, Leader: a},
			{At: 3 * time.Second, Member: "k8smaster1", ID: b, Term: 2, Leader: a},
			{At: 20 * time.Second, Member: "k8smaster0", ID: a, Term: 2, Leader: a},
			{At: 20 * time.Second, Member: "k8smaster1", ID: b, Term: 2, Leader: a},
			// check perf: the leader is lost for 4 s and b takes over.
			{At: 42 * time.Second, Member: "k8smaster0", ID: a, Term: 3},
			{At: 42 * time.Second, Member: "k8smaster1", ID: b, Term: 3},
			{At: 46 * time.Second, Member: "k8smaster0", ID: a, Term: 3, Leader: b},
			{At: 46 * time.Second, Member: "k8smaster1", ID: b, Term: 3, Leader: b},
		}},
		Metrics: []MemberWindow{{Member: "k8smaster1",
			After: readSnapshot(t, "metrics-3.6-before.txt"), End: readSnapshot(t, "metrics-3.6-after.txt")}},
		Events: parseTestJournal(t, "journal-3.6.txt"),
		Requests: Requests{
			{At: 10 * time.Second, Latency: 12 * time.Millisecond},
			{At: 11 * time.Second, Latency: 2500 * time.Millisecond},
			{At: 12 * time.Second, Latency: 5 * time.Second, Err: fmt.Errorf("put: %w", context.DeadlineExceeded)},
		},
	}
}

// TestResultWindows: every figure is counted in its own window.
func TestResultWindows(t *testing.T) {
	before, after := readSnapshot(t, "metrics-3.6-before.txt"), readSnapshot(t, "metrics-3.6-after.txt")
	a := observed(t).Result(Arm{Name: "hdd"})
	if a.TimeToFirstLeader != Seconds(3*time.Second) || a.MaxTerm != 3 || !a.Elected() {
		t.Errorf("first leader %s, max term %d; want 3 s, 3", a.TimeToFirstLeader, a.MaxTerm)
	}
	if a.LeaderChanges != 1 || a.LeaderChangesByPhase != (PhaseCounts{CheckPerf: 1}) {
		t.Errorf("leader changes = %d %+v, want 1, in check perf", a.LeaderChanges, a.LeaderChangesByPhase)
	}
	if a.TimeWithoutLeader != Seconds(4*time.Second) || a.TimeWithoutLeaderByPhase != (PhaseDuration{CheckPerf: Seconds(4 * time.Second)}) {
		t.Errorf("time without leader = %s %+v, want 4 s, in check perf", a.TimeWithoutLeader, a.TimeWithoutLeaderByPhase)
	}
	// The journal per phase (TestCountByPhase3_6's windows).
	if a.ElectionsByPhase != (PhaseCounts{2, 0, 4}) || a.SlowFsyncByPhase != (PhaseCounts{0, 21, 0}) || a.Elections != 6 {
		t.Errorf("elections %+v, slow fsyncs %+v", a.ElectionsByPhase, a.SlowFsyncByPhase)
	}
	// bootstrap + observation: the member's counters from its fresh start
	// to "before"; check perf: "before" to "after".
	if a.HeartbeatFailures != int(before.HeartbeatSendFailures) || a.WALFsyncMean != Seconds(before.WALFsync.Mean()*float64(time.Second)+0.5) {
		t.Errorf("bootstrap + observation: %d heartbeat failures, WAL mean %s; want %d, %g s",
			a.HeartbeatFailures, a.WALFsyncMean, before.HeartbeatSendFailures, before.WALFsync.Mean())
	}
	m := a.CheckPerfMetrics
	if !m.Measured || m.HeartbeatFailures != 20 || m.WALFsyncCount != 20 || m.WALFsyncP99Le != 2.048 {
		t.Errorf("check perf metrics = %+v, want 20 heartbeat failures, 20 fsyncs, p99 ≤ 2.048 s (TestDeltaCaptured)", m)
	}
	if d := after.WALFsync.Sum - before.WALFsync.Sum; m.WALFsyncMean.Seconds()-d/20 > 1e-6 {
		t.Errorf("check perf WAL mean = %s, want %g s", m.WALFsyncMean, d/20)
	}
	if last := a.FsyncBuckets[len(a.FsyncBuckets)-1]; !math.IsInf(float64(last.UpperBound), 1) || uint64(last.Count) != before.WALFsync.Count {
		t.Errorf("last bucket = %+v, want +Inf holding all %d", last, before.WALFsync.Count)
	}
	if a.PutCount != 3 || a.PutErrors != 1 || a.PutP99 != Seconds(5*time.Second) {
		t.Errorf("puts = %d, %d failed, p99 %s", a.PutCount, a.PutErrors, a.PutP99)
	}
	if a.JournalMaxTerm < 2 || len(a.Samples) != 8 || a.Samples[0].Leader != "k8smaster0" {
		t.Errorf("journal term %d, %d samples (%+v)", a.JournalMaxTerm, len(a.Samples), a.Samples)
	}
}

// TestResultNothingToMeasure: the story's cluster on 3.4 — no member ever
// served, every put failed at once, no metrics. No figure may be made up.
func TestResultNothingToMeasure(t *testing.T) {
	o := Observation{
		Windows:  Windows{ObservationStart: 120 * time.Second, ObservationEnd: 150 * time.Second, End: 151 * time.Second},
		Timeline: Timeline{End: 151 * time.Second, Samples: []Sample{{At: 0, Err: errors.New("no member serves clients yet")}}},
		Metrics:  []MemberWindow{{Member: "k8smaster0"}},
		Requests: Requests{{At: 120 * time.Second, Latency: 4610 * time.Nanosecond, Err: errors.New("no member serves clients yet")}},
	}
	a := o.Result(Arm{Name: "hdd@v3.4.23"})
	if a.Elected() || a.MaxTerm.Known() || a.PutP99.Valid() || a.WALFsyncMean.Valid() || a.CheckPerfMetrics.Measured {
		t.Errorf("figures that do not exist: first leader %s, term %d, put p99 %s, WAL mean %s, check perf metrics %+v",
			a.TimeToFirstLeader, a.MaxTerm, a.PutP99, a.WALFsyncMean, a.CheckPerfMetrics)
	}
	if a.TimeWithoutLeader != Seconds(151*time.Second) || a.TimeWithoutLeaderByPhase.Observation != Seconds(30*time.Second) {
		t.Errorf("time without leader = %s (%+v), want the whole arm", a.TimeWithoutLeader, a.TimeWithoutLeaderByPhase)
	}
	js, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"time_to_first_leader_s":null`, `"max_term":null`, `"put_p99_s":null`, `"wal_fsync_mean_s":null`,
		`"wal_fsync_p99_le":null`, `"samples":[]`, `"time_without_leader_s":151,`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s: %s", key, js)
		}
	}
	var back Arm
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if back.Elected() || back.PutP99.Valid() || back.TimeWithoutLeader != a.TimeWithoutLeader {
		t.Errorf("read back: %+v", back)
	}
}
