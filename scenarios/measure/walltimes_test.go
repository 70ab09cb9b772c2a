package measure

import (
	"encoding/json"
	"testing"
	"time"
)

func TestWallTimesAddAndRecorded(t *testing.T) {
	w := NoWallTimes
	if w.Recorded() {
		t.Fatal("NoWallTimes reads as recorded")
	}
	if w.Reset.Valid() {
		t.Fatalf("a step not taken is %v, want None", w.Reset)
	}
	// Reset runs twice in an arm: before the probe and after it.
	Add(&w.Reset, 2*time.Second)
	Add(&w.Reset, 1500*time.Millisecond)
	if w.Reset.D() != 3500*time.Millisecond {
		t.Errorf("Reset after 2 s + 1.5 s = %v, want 3.5s", w.Reset.D())
	}
	w.Total = Seconds(time.Minute)
	if !w.Recorded() {
		t.Error("an arm with a total reads as not recorded")
	}
	var names []string
	for _, s := range w.Steps() {
		names = append(names, s.Name)
	}
	want := []string{"reset", "etcd install", "profile", "probe", "bootstrap", "observation", "check perf", "collect"}
	if len(names) != len(want) {
		t.Fatalf("steps %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("steps %q, want %q", names, want)
		}
	}
}

// A step not taken is null in report.json and reads back as None; a
// report from before wall times were recorded reads back as not recorded.
func TestWallTimesJSON(t *testing.T) {
	w := NoWallTimes
	Add(&w.Probe, 30*time.Second)
	w.Total = Seconds(100 * time.Second)
	b, err := json.Marshal(Arm{Name: "a", WallTimes: w})
	if err != nil {
		t.Fatal(err)
	}
	var back Arm
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.WallTimes != w {
		t.Errorf("round trip: %+v, want %+v", back.WallTimes, w)
	}
	if back.WallTimes.EtcdInstall.Valid() {
		t.Errorf("etcd install not taken reads back as %v", back.WallTimes.EtcdInstall)
	}
	var old Arm
	if err := json.Unmarshal([]byte(`{"name":"old"}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.WallTimes.Recorded() {
		t.Error("a result without wall_times reads as recorded")
	}
}
