package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/scenarios/measure"
)

func TestJSONRoundTrip(t *testing.T) {
	want := story()
	never := settled()
	never.Name, never.TimeToFirstLeader = "never", Never
	want.Arms = append(want.Arms, never)

	var b bytes.Buffer
	if err := WriteJSON(&b, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	// What is read back is the judged report that was written: one type,
	// nothing lost or added.
	want = Judge(want)
	if !reflect.DeepEqual(got, want) {
		for i := range want.Arms {
			if i < len(got.Arms) && !reflect.DeepEqual(got.Arms[i], want.Arms[i]) {
				t.Errorf("arm %d differs after a round trip:\n got %+v\nwant %+v", i, got.Arms[i], want.Arms[i])
			}
		}
		t.Fatalf("report differs after a round trip")
	}
}

// TestJSONForScripts checks the keys the end-to-end test and people's
// scripts read: the outcome per arm, durations in seconds, null for a
// leader never elected.
func TestJSONForScripts(t *testing.T) {
	r := story()
	r.Arms[1].TimeToFirstLeader = Never
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Duration float64 `json:"duration_s"`
		Arms     []map[string]any
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("report.json is not JSON: %v\n%s", err, b.Bytes())
	}
	if doc.Duration != 90 {
		t.Errorf("duration_s = %v, want 90", doc.Duration)
	}
	if len(doc.Arms) != 3 {
		t.Fatalf("%d arms, want 3", len(doc.Arms))
	}
	for i, want := range []bool{true, false, true} {
		if v, _ := doc.Arms[i]["verdicts"].(map[string]any); v["stable"] != want {
			t.Errorf("arm %v: verdicts.stable = %v, want %v", doc.Arms[i]["name"], v["stable"], want)
		}
	}
	if v, ok := doc.Arms[1]["time_to_first_leader_s"]; !ok || v != nil {
		t.Errorf("time_to_first_leader_s of a leaderless arm = %v (present %v), want null", v, ok)
	}
	if doc.Arms[2]["election_s"] != 6.0 || doc.Arms[2]["heartbeat_s"] != 0.6 {
		t.Errorf("hdd-tuned timeouts = %v / %v, want 0.6 / 6 seconds", doc.Arms[2]["heartbeat_s"], doc.Arms[2]["election_s"])
	}
	if v, _ := doc.Arms[1]["put_p99_s"].(float64); v <= 0 {
		t.Errorf("put_p99_s of hdd = %v, want seconds", doc.Arms[1]["put_p99_s"])
	}
}

// TestJSONNullsWhatDoesNotExist: an arm that never elected and whose puts
// all failed has no term, no first leader and no put p99 — null, not 0.
func TestJSONNullsWhatDoesNotExist(t *testing.T) {
	r := Report{Arms: []Arm{{Name: "story", TimeToFirstLeader: Never, PutP99: measure.None, PutCount: 300, PutErrors: 300,
		WALFsyncMean: measure.None}}}
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Arms []map[string]any }
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"time_to_first_leader_s", "put_p99_s", "max_term", "journal_max_term", "wal_fsync_mean_s", "wal_fsync_p99_le"} {
		if v, ok := doc.Arms[0][key]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", key, v, ok)
		}
	}
	back, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if a := back.Arms[0]; a.Elected() || a.PutP99.Valid() || a.MaxTerm.Known() {
		t.Errorf("read back %+v: want no leader, no put p99, no term", a)
	}
}

func TestReadJSONRejectsBadBucket(t *testing.T) {
	_, err := ReadJSON(strings.NewReader(`{"arms":[{"name":"x","wal_fsync_buckets":[{"le":"soon","count":1}]}]}`))
	if err == nil || !strings.Contains(err.Error(), `"soon"`) {
		t.Fatalf("ReadJSON = %v, want an error naming the bound", err)
	}
}
