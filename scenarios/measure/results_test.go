package measure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// observation is an arm built from the 3.6 captures: k8smaster1's metrics
// (the leader in the slow window) and every member's journal, with a
// made-up timeline, a made-up quiet member and a made-up workload.
func observation(t *testing.T) Observation {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "journal-3.6.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events, err := ParseJournal(f)
	if err != nil {
		t.Fatal(err)
	}
	quiet := Snapshot{HasLeader: true, LeaderChanges: 1, ProposalsCommitted: 10,
		WALFsync: Histogram{Count: 2, Sum: 0.0015, Buckets: cumulative(1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)}}
	return Observation{
		Arm:    "hdd",
		Start:  time.Date(2026, 11, 25, 22, 49, 0, 0, time.UTC),
		Window: 90 * time.Second,
		Timeline: Timeline{End: 3 * time.Second, Samples: []Sample{
			{At: 0, Member: "k8smaster0", ID: 0xd24ef662135c0288, Term: 1},
			{At: 0, Member: "k8smaster1", Err: errors.New("context deadline exceeded")},
			{At: time.Second, Member: "k8smaster0", ID: 0xd24ef662135c0288, Term: 2, Leader: 0xd24ef662135c0288},
			{At: time.Second, Member: "k8smaster1", ID: 0xca3156e4c1572ddc, Term: 2, Leader: 0xd24ef662135c0288},
			{At: 2 * time.Second, Member: "k8smaster0", ID: 0xd24ef662135c0288, Term: 2, Leader: 0xd24ef662135c0288},
			{At: 2 * time.Second, Member: "k8smaster1", ID: 0xca3156e4c1572ddc, Term: 2, Leader: 0xd24ef662135c0288},
		}},
		Metrics: []MemberWindow{
			{Member: "k8smaster1", Before: readSnapshot(t, "metrics-3.6-before.txt"), After: readSnapshot(t, "metrics-3.6-after.txt")},
			{Member: "k8smaster2", After: quiet},
		},
		Events:   events,
		Workload: Workload{Rate: 4},
		Requests: Requests{
			{At: 0, Key: "k0", Latency: 12 * time.Millisecond},
			{At: 250 * time.Millisecond, Key: "k1", Latency: 2500 * time.Millisecond},
			{At: 500 * time.Millisecond, Key: "k2", Latency: 5 * time.Second, Err: fmt.Errorf("putting k2: %w", context.DeadlineExceeded)},
			{At: 750 * time.Millisecond, Key: "k3", Latency: 8 * time.Millisecond},
		},
	}
}

func TestResultsGolden(t *testing.T) {
	got, err := json.MarshalIndent(observation(t).Results(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "results.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("results differ from %s (go test -update rewrites it); got:\n%s", golden, got)
	}
}

func TestResults(t *testing.T) {
	r := observation(t).Results()
	if r.WindowSeconds != 90 || r.Leadership.TimeToFirstLeaderSeconds == nil || *r.Leadership.TimeToFirstLeaderSeconds != 1 ||
		r.Leadership.TimeWithoutLeaderSeconds != 0 || r.Leadership.MaxTerm != 2 || len(r.Leadership.Samples) != 6 {
		t.Errorf("leadership = %+v, want first leader at 1 s, none without after it (the bootstrap is not counted), term 2, 6 samples", r.Leadership)
	}
	if s := r.Leadership.Samples[2]; s.ID != "d24ef662135c0288" || s.Leader != "d24ef662135c0288" || s.AtSeconds != 1 {
		t.Errorf("sample = %+v, want hex IDs at 1 s", s)
	}
	c := r.Cluster
	if c.LeaderChangesSeen != 1 || c.HeartbeatSendFailures != 20 || c.ProposalsCommitted != 19 || c.WALFsync.Count != 22 {
		t.Errorf("cluster = %+v, want 1 leader change, 20 heartbeat failures, 19 proposals, 22 fsyncs (20 + 2)", c)
	}
	if n := len(c.WALFsync.Buckets); n != len(etcdBounds)+1 || c.WALFsync.Buckets[n-1].ToSeconds != nil || c.WALFsync.Buckets[0].Count != 13 {
		t.Errorf("fsync buckets = %+v, want etcd's 14 and the open one, 12 + 1 in the first", c.WALFsync.Buckets)
	}
	var inBuckets uint64
	for _, b := range c.WALFsync.Buckets {
		inBuckets += b.Count
	}
	if inBuckets != c.WALFsync.Count {
		t.Errorf("buckets hold %d observations, want %d: they must not be cumulative", inBuckets, c.WALFsync.Count)
	}
	if r.Log.Counts[SlowFsync] != 21 || r.Log.Counts[PeerUnreachable] != 12 || len(r.Log.ByMember) != 3 {
		t.Errorf("log counts = %v by member %v", r.Log.Counts, r.Log.ByMember)
	}
	w := r.Workload
	if w.RatePerSecond != 4 || w.Count != 4 || w.Errors != 1 || w.P50Seconds != 0.012 || w.P99Seconds != 5 || w.ErrorMessages["context deadline exceeded"] != 1 {
		t.Errorf("workload = %+v", w)
	}

	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"timeToFirstLeaderSeconds":1,`, `"p99Le":"`, `"heartbeatSendFailures":20`, `"slow-fsync":21`, `"latencySeconds":2.5`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestResultsNoLeader(t *testing.T) {
	r := Observation{Timeline: Timeline{End: 2 * time.Second, Samples: []Sample{{At: 0, Member: "a", Term: 7}}}}.Results()
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"timeToFirstLeaderSeconds":null`) || !strings.Contains(string(js), `"timeWithoutLeaderSeconds":2`) {
		t.Errorf("JSON = %s, want no first leader (null) and 2 s without one", js)
	}
	for _, k := range Kinds {
		if !strings.Contains(string(js), `"`+string(k)+`":0`) {
			t.Errorf("JSON lacks a zero count for %s: %s", k, js)
		}
	}
}
