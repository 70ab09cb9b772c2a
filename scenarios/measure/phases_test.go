package measure

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func parseTestJournal(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := ParseJournal(f)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// TestCountByPhase3_6: the recorded 3.6 journal (pre-vote on) counted in
// windows placed around what it holds (counted by hand with grep): two
// elections at the bootstrap (22:49:05, :09), 21 slow fdatasyncs in the
// observation (22:49:25–:41, seven per member) and four elections at the
// end, which belong to check perf, not to the observation.
func TestCountByPhase3_6(t *testing.T) {
	start := time.Date(2026, 11, 25, 22, 49, 5, 0, time.UTC)
	w := Windows{ObservationStart: 10 * time.Second, ObservationEnd: 40 * time.Second, End: 50 * time.Second}
	c := CountByPhase(parseTestJournal(t, "journal-3.6.txt"), start, w)
	want := map[Phase]map[Kind]int{
		PhaseBootstrap:   {ElectionStart: 2, PreVoteCampaign: 2, VoteCampaign: 2, SlowFsync: 0},
		PhaseObservation: {ElectionStart: 0, PreVoteCampaign: 0, VoteCampaign: 0, SlowFsync: 21},
		PhaseCheckPerf:   {ElectionStart: 4, PreVoteCampaign: 4, VoteCampaign: 0, SlowFsync: 0},
	}
	for p, kinds := range want {
		for k, n := range kinds {
			if c[p][k] != n {
				t.Errorf("%s %s = %d, want %d", p, k, c[p][k], n)
			}
		}
	}
	if c.Total(ElectionStart) != 6 || c.Total(SlowFsync) != 21 {
		t.Errorf("totals: elections %d, slow fsync %d; want 6, 21", c.Total(ElectionStart), c.Total(SlowFsync))
	}
}

// TestCountByPhase3_4: etcd 3.4 (pre-vote off) logs every election as a
// vote campaign and its slow fsyncs as "sync duration of".
func TestCountByPhase3_4(t *testing.T) {
	start := time.Date(2026, 11, 25, 22, 49, 53, 0, time.UTC)
	w := Windows{ObservationStart: 10 * time.Second, ObservationEnd: 42 * time.Second, End: 60 * time.Second}
	c := CountByPhase(parseTestJournal(t, "journal-3.4.txt"), start, w)
	// Elections at 22:49:54 and :58 (bootstrap), 22:50:37, :39, :40 (after
	// 22:50:35: check perf); 24 slow fsyncs 22:50:13–:30 (observation).
	if c[PhaseBootstrap][VoteCampaign] != 2 || c[PhaseCheckPerf][VoteCampaign] != 3 || c.Total(PreVoteCampaign) != 0 {
		t.Errorf("vote campaigns = %v / %v, pre-vote %d; want 2 at the bootstrap, 3 in check perf, no pre-vote",
			c[PhaseBootstrap], c[PhaseCheckPerf], c.Total(PreVoteCampaign))
	}
	if c[PhaseObservation][SlowFsync] != 24 || c.Total(SlowFsync) != 24 {
		t.Errorf("slow fsync = %v, want 24, all in the observation", c)
	}
}

func TestWindowsOf(t *testing.T) {
	w := Windows{ObservationStart: 5 * time.Second, ObservationEnd: 35 * time.Second, End: 45 * time.Second}
	for at, want := range map[time.Duration]Phase{
		-time.Second: PhaseBootstrap, 0: PhaseBootstrap, 4999 * time.Millisecond: PhaseBootstrap,
		5 * time.Second: PhaseObservation, 34 * time.Second: PhaseObservation,
		35 * time.Second: PhaseCheckPerf, time.Minute: PhaseCheckPerf,
	} {
		if got := w.Of(at); got != want {
			t.Errorf("Of(%s) = %s, want %s", at, got, want)
		}
	}
}

// TestQuantileBound: the bucket a quantile falls in, never a value between
// bounds. The recorded 3.6 leader's window holds 20 WAL fsyncs: 12 under
// 1 ms, one ≤ 0.512 s and seven of about 1.05 s on the hdd profile. p50 is
// "≤ 0.001 s" and p99 "≤ 2.048 s" (interpolating would invent 2.02 s).
func TestQuantileBound(t *testing.T) {
	h := readSnapshot(t, "metrics-3.6-after.txt").WALFsync.Sub(readSnapshot(t, "metrics-3.6-before.txt").WALFsync)
	if h.Count == 0 {
		t.Fatal("no fsyncs in the window")
	}
	for q, want := range map[float64]float64{0.5: 0.001, 0.99: 2.048} {
		if got := h.QuantileBound(q); got != want {
			t.Errorf("QuantileBound(%v) = %v, want %v", q, got, want)
		}
	}
	if mean := h.Mean(); math.Abs(mean-h.Sum/float64(h.Count)) > 1e-12 {
		t.Errorf("Mean = %v, want sum/count", mean)
	}
	small := Histogram{Count: 4, Sum: 1, Buckets: []Bucket{{0.001, 1}, {0.002, 3}, {0.004, 3}}}
	for q, want := range map[float64]float64{0: 0.001, 0.25: 0.001, 0.5: 0.002, 0.75: 0.002, 0.99: math.Inf(1)} {
		if got := small.QuantileBound(q); got != want {
			t.Errorf("QuantileBound(%v) = %v, want %v", q, got, want)
		}
	}
	if FormatLe(math.Inf(1)) != "+Inf" || FormatLe(2.048) != "2.048" {
		t.Errorf("FormatLe = %q, %q", FormatLe(math.Inf(1)), FormatLe(2.048))
	}
}
