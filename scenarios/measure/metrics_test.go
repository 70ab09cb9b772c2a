package measure

import (
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The captured /metrics come from testdata/capture.sh: one member of a
// three-member cluster on loopback (the leader of the slow window; the
// first line says which), before and after a window in which the leader
// was killed and then every fdatasync was delayed by 1.2 s. The expected
// figures were read off the text with grep.

func readSnapshot(t *testing.T, name string) Snapshot {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ParseMetrics(f)
	if err != nil {
		t.Fatalf("ParseMetrics(%s): %v", name, err)
	}
	return s
}

// etcdBounds are the buckets of etcd's disk histograms: 1 ms doubling to
// 8.192 s.
var etcdBounds = []float64{0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192}

func TestParseMetricsCaptured(t *testing.T) {
	tests := []struct {
		file  string
		want  Snapshot // counters and gauges only
		fsync Histogram
		peers int
	}{
		{
			file: "metrics-3.4-before.txt",
			want: Snapshot{HasLeader: true, LeaderChanges: 1, ProposalsCommitted: 15},
			fsync: Histogram{Count: 13, Sum: 0.014000269000000001, Buckets: cumulative(
				10, 11, 12, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13)},
		},
		{
			file: "metrics-3.4-after.txt",
			want: Snapshot{HasLeader: true, IsLeader: true, LeaderChanges: 2, HeartbeatSendFailures: 24, ProposalsCommitted: 54},
			fsync: Histogram{Count: 53, Sum: 10.107970495, Buckets: cumulative(
				32, 40, 43, 44, 44, 44, 44, 44, 44, 45, 45, 53, 53, 53)},
			peers: 2,
		},
		{
			file: "metrics-3.6-before.txt",
			want: Snapshot{HasLeader: true, LeaderChanges: 1, ProposalsCommitted: 14},
			fsync: Histogram{Count: 13, Sum: 0.009994678, Buckets: cumulative(
				10, 11, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13, 13)},
		},
		{
			file: "metrics-3.6-after.txt",
			want: Snapshot{HasLeader: true, IsLeader: true, LeaderChanges: 2, HeartbeatSendFailures: 20, ProposalsCommitted: 33},
			fsync: Histogram{Count: 33, Sum: 8.896322622999996, Buckets: cumulative(
				22, 23, 25, 25, 25, 25, 25, 25, 25, 26, 26, 33, 33, 33)},
			peers: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s := readSnapshot(t, tt.file)
			got := [...]any{s.HasLeader, s.IsLeader, s.LeaderChanges, s.HeartbeatSendFailures, s.ProposalsFailed, s.ProposalsCommitted}
			want := [...]any{tt.want.HasLeader, tt.want.IsLeader, tt.want.LeaderChanges, tt.want.HeartbeatSendFailures, tt.want.ProposalsFailed, tt.want.ProposalsCommitted}
			if got != want {
				t.Errorf("has leader, is leader, leader changes, heartbeat failures, proposals failed, committed = %v, want %v", got, want)
			}
			assertHistogram(t, "WAL fsync", s.WALFsync, tt.fsync)
			if n := len(s.BackendCommit.Buckets); n != len(etcdBounds) || s.BackendCommit.Count == 0 {
				t.Errorf("backend commit: %d buckets, count %d; want %d buckets and observations", n, s.BackendCommit.Count, len(etcdBounds))
			}
			if len(s.PeerRoundTrip) != tt.peers {
				t.Errorf("peer round trips for %d peers, want %d", len(s.PeerRoundTrip), tt.peers)
			}
			for peer, h := range s.PeerRoundTrip {
				if len(peer) < 14 || h.Count == 0 || h.Buckets[0].UpperBound != 0.0001 {
					t.Errorf("peer %q round trip = %+v, want a member ID with probes in buckets from 0.1 ms", peer, h)
				}
			}
		})
	}
}

// cumulative pairs counts with etcdBounds.
func cumulative(counts ...uint64) []Bucket {
	var b []Bucket
	for i, c := range counts {
		b = append(b, Bucket{UpperBound: etcdBounds[i], Count: c})
	}
	return b
}

func assertHistogram(t *testing.T, what string, got, want Histogram) {
	t.Helper()
	if got.Count != want.Count || math.Abs(got.Sum-want.Sum) > 1e-9 || len(got.Buckets) != len(want.Buckets) {
		t.Fatalf("%s = count %d sum %g %d buckets, want count %d sum %g %d buckets",
			what, got.Count, got.Sum, len(got.Buckets), want.Count, want.Sum, len(want.Buckets))
	}
	for i := range want.Buckets {
		if got.Buckets[i] != want.Buckets[i] {
			t.Errorf("%s bucket %d = %+v, want %+v", what, i, got.Buckets[i], want.Buckets[i])
		}
	}
}

func TestDeltaCaptured(t *testing.T) {
	tests := []struct {
		version            string
		heartbeatFailures  uint64
		fsyncs, slow       uint64
		fsyncP50, fsyncP99 float64
	}{
		// 3.4: 40 fsyncs in the window, 22 under 1 ms and 8 of the delayed
		// ones (1.2 s) in (1.024, 2.048]: p99 = 1.024 + 1.024 × 7.6/8.
		{"3.4", 24, 40, 8, 0.001 * 20 / 22, 1.024 + 1.024*7.6/8},
		// 3.6: 20 fsyncs, 12 under 1 ms, 7 in (1.024, 2.048].
		{"3.6", 20, 20, 7, 0.001 * 10 / 12, 1.024 + 1.024*6.8/7},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			before := readSnapshot(t, "metrics-"+tt.version+"-before.txt")
			after := readSnapshot(t, "metrics-"+tt.version+"-after.txt")
			d := after.Delta(before)
			if d.LeaderChanges != 1 || d.HeartbeatSendFailures != tt.heartbeatFailures || d.ProposalsFailed != 0 || !d.IsLeader {
				t.Errorf("delta = %d leader changes, %d heartbeat failures, %d proposals failed, leader %v; want 1, %d, 0, true",
					d.LeaderChanges, d.HeartbeatSendFailures, d.ProposalsFailed, d.IsLeader, tt.heartbeatFailures)
			}
			if d.WALFsync.Count != tt.fsyncs {
				t.Errorf("fsyncs in window = %d, want %d", d.WALFsync.Count, tt.fsyncs)
			}
			if got := d.WALFsync.Quantile(0.5); math.Abs(got-tt.fsyncP50) > 1e-9 {
				t.Errorf("fsync p50 = %g, want %g", got, tt.fsyncP50)
			}
			if got := d.WALFsync.Quantile(0.99); math.Abs(got-tt.fsyncP99) > 1e-9 {
				t.Errorf("fsync p99 = %g, want %g", got, tt.fsyncP99)
			}
			if got := d.WALFsync.Max(); got != 2.048 {
				t.Errorf("fsync max = %g, want 2.048 (the 1.2 s fsyncs' bucket)", got)
			}
			// Each delayed fsync took at least the 1.2 s delay.
			wantMean := (after.WALFsync.Sum - before.WALFsync.Sum) / float64(tt.fsyncs)
			atLeast := float64(tt.slow) * 1.2 / float64(tt.fsyncs)
			if got := d.WALFsync.Mean(); math.Abs(got-wantMean) > 1e-12 || got < atLeast {
				t.Errorf("fsync mean = %g, want %g (at least %g)", got, wantMean, atLeast)
			}
			// The peers' probes started after the first scrape: their whole
			// histograms are the window's.
			for peer, h := range d.PeerRoundTrip {
				if h.Count != after.PeerRoundTrip[peer].Count {
					t.Errorf("peer %s round trips = %d, want %d", peer, h.Count, after.PeerRoundTrip[peer].Count)
				}
			}
		})
	}
}

func TestDeltaAfterRestart(t *testing.T) {
	earlier := Snapshot{LeaderChanges: 5, HeartbeatSendFailures: 10, ProposalsCommitted: 100,
		WALFsync: Histogram{Count: 10, Sum: 1, Buckets: []Bucket{{0.001, 8}, {0.002, 10}}}}
	// The member restarted: its counters began again from zero.
	later := Snapshot{HasLeader: true, LeaderChanges: 1, HeartbeatSendFailures: 12, ProposalsCommitted: 3,
		WALFsync: Histogram{Count: 4, Sum: 0.004, Buckets: []Bucket{{0.001, 4}, {0.002, 4}}}}
	d := later.Delta(earlier)
	if d.LeaderChanges != 1 || d.HeartbeatSendFailures != 2 || d.ProposalsCommitted != 3 || !d.HasLeader {
		t.Errorf("delta = %+v, want leader changes 1 (reset), heartbeat failures 2, proposals 3 (reset), has leader", d)
	}
	if d.WALFsync.Count != 4 || d.WALFsync.Buckets[0].Count != 4 {
		t.Errorf("fsync delta after reset = %+v, want the later histogram", d.WALFsync)
	}
}

func TestHistogramQuantile(t *testing.T) {
	h := Histogram{Count: 20, Sum: 0.03, Buckets: []Bucket{{0.001, 10}, {0.002, 20}, {0.004, 20}}}
	for _, tt := range []struct{ q, want float64 }{
		{0, 0},
		{0.25, 0.0005},
		{0.5, 0.001},
		{0.75, 0.0015},
		{0.99, 0.00198},
		{1, 0.002},
	} {
		if got := h.Quantile(tt.q); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Quantile(%g) = %g, want %g", tt.q, got, tt.want)
		}
	}
	if got := h.Max(); got != 0.002 {
		t.Errorf("Max = %g, want 0.002", got)
	}
	if got := h.Mean(); math.Abs(got-0.0015) > 1e-15 {
		t.Errorf("Mean = %g, want 0.0015", got)
	}

	// Five observations beyond the largest bound: Prometheus answers with
	// that bound.
	over := Histogram{Count: 25, Buckets: h.Buckets}
	if got := over.Quantile(0.99); got != 0.004 {
		t.Errorf("overflowing Quantile(0.99) = %g, want 0.004", got)
	}
	if got, n := over.Max(), over.Overflow(); got != 0.004 || n != 5 {
		t.Errorf("overflowing Max, Overflow = %g, %d; want 0.004, 5", got, n)
	}

	var empty Histogram
	if empty.Quantile(0.5) != 0 || empty.Max() != 0 || empty.Mean() != 0 {
		t.Error("an empty histogram must give 0 for everything")
	}
}

func TestHistogramAdd(t *testing.T) {
	a := Histogram{Count: 3, Sum: 1, Buckets: []Bucket{{1, 1}, {2, 3}}}
	b := Histogram{Count: 2, Sum: 3, Buckets: []Bucket{{1, 0}, {2, 1}}}
	got, ok := a.Add(b)
	if !ok || got.Count != 5 || got.Sum != 4 || got.Buckets[0].Count != 1 || got.Buckets[1].Count != 4 {
		t.Errorf("Add = %+v, %v; want count 5, sum 4, buckets 1, 4", got, ok)
	}
	if a.Buckets[1].Count != 3 {
		t.Error("Add changed its receiver")
	}
	if got, ok := (Histogram{}).Add(a); !ok || got.Count != 3 {
		t.Errorf("empty.Add(a) = %+v, %v; want a", got, ok)
	}
	if _, ok := a.Add(Histogram{Count: 1, Buckets: []Bucket{{5, 1}}}); ok {
		t.Error("Add merged histograms with different buckets")
	}
}

func TestParseMetricsRejects(t *testing.T) {
	for name, text := range map[string]string{
		"not etcd":  "# TYPE go_goroutines gauge\ngo_goroutines 12\n",
		"malformed": "etcd_server_has_leader{ 1\n",
		"histogram out of order": "etcd_server_has_leader 1\n# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n" +
			"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 3\n" +
			"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 1\n" +
			"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 3\n" +
			"etcd_disk_wal_fsync_duration_seconds_sum 0.004\netcd_disk_wal_fsync_duration_seconds_count 3\n",
	} {
		if _, err := ParseMetrics(strings.NewReader(text)); err == nil {
			t.Errorf("%s: ParseMetrics accepted %q", name, text)
		}
	}
}

func TestFetchMetricsStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err := FetchMetrics(t.Context(), srv.Client(), srv.URL+"/metrics")
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("err = %v, want the 404 reported", err)
	}
}
