package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
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
	// What is read back carries the verdict that was written.
	for i := range want.Arms {
		want.Arms[i].Verdict = Verdict(want.Arms[i])
	}
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
		if doc.Arms[i]["stable"] != want {
			t.Errorf("arm %v: stable = %v, want %v", doc.Arms[i]["name"], doc.Arms[i]["stable"], want)
		}
	}
	if v, ok := doc.Arms[1]["time_to_first_leader_s"]; !ok || v != nil {
		t.Errorf("time_to_first_leader_s of a leaderless arm = %v (present %v), want null", v, ok)
	}
	if doc.Arms[2]["election_s"] != 6.0 || doc.Arms[2]["heartbeat_s"] != 0.6 {
		t.Errorf("hdd-tuned timeouts = %v / %v, want 0.6 / 6 seconds", doc.Arms[2]["heartbeat_s"], doc.Arms[2]["election_s"])
	}
	if strings.Contains(b.String(), "\n          \"le\"") {
		t.Errorf("buckets are not one to a line:\n%s", b.String()[:2000])
	}
}

func TestReadJSONRejectsBadBucket(t *testing.T) {
	_, err := ReadJSON(strings.NewReader(`{"arms":[{"name":"x","wal_fsync":{"buckets":[{"le":"soon","count":1}]}}]}`))
	if err == nil || !strings.Contains(err.Error(), `"soon"`) {
		t.Fatalf("ReadJSON = %v, want an error naming the bound", err)
	}
}

func TestCollapseLeaves(t *testing.T) {
	in := "{\n  \"a\": {\n    \"s\": \"{not, an: object}\",\n    \"q\": \"say \\\"hi\\\"\"\n  },\n  \"b\": [\n    {\n      \"x\": 1\n    }\n  ]\n}\n"
	want := "{\n  \"a\": {\"s\": \"{not, an: object}\", \"q\": \"say \\\"hi\\\"\"},\n  \"b\": [\n    {\"x\": 1}\n  ]\n}\n"
	if got := string(collapseLeaves([]byte(in))); got != want {
		t.Errorf("collapseLeaves:\n got %q\nwant %q", got, want)
	}
	if !json.Valid([]byte(want)) {
		t.Errorf("collapsed output is not valid JSON")
	}
}
