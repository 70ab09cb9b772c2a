package slowdisk

import (
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/spec"
)

// TestTune checks the rule against etcd's tuning guide: the heartbeat
// about one round trip (the guide allows 0.5–1.5 ×; the rule takes the
// round trip rounded up to 100 ms), the election at least 10 round trips,
// and etcd's own limits from lab/etcd.
func TestTune(t *testing.T) {
	for _, tc := range []struct{ rtt, hb, el time.Duration }{
		{8 * time.Millisecond, 100 * time.Millisecond, time.Second}, // etcd's defaults on a fast disk
		{1050 * time.Millisecond, 1100 * time.Millisecond, 11 * time.Second},
		{2880 * time.Millisecond, 2900 * time.Millisecond, 29 * time.Second},
		{20 * time.Second, 10 * time.Second, 50 * time.Second}, // etcd's 50 s cap, and election ≥ 5 × heartbeat
	} {
		hb, el := Tune(tc.rtt)
		if hb != tc.hb || el != tc.el {
			t.Errorf("Tune(%s) = %s/%s, want %s/%s", tc.rtt, hb, el, tc.hb, tc.el)
		}
		if el < spec.MinElectionHeartbeatRatio*hb || el > spec.MaxElectionTimeout {
			t.Errorf("Tune(%s) = %s/%s breaks etcd's limits", tc.rtt, hb, el)
		}
		if el < spec.MaxElectionTimeout && (el < 10*tc.rtt || hb < tc.rtt/2 || hb > tc.rtt*3/2+100*time.Millisecond) {
			t.Errorf("Tune(%s) = %s/%s is outside the guide (heartbeat 0.5–1.5 × the round trip, election ≥ 10 ×)", tc.rtt, hb, el)
		}
	}
}

func TestSelect(t *testing.T) {
	all, err := Select(nil)
	if err != nil || len(all) != 3 || all[0].Name != "ssd" || all[2].Name != "hdd-tuned" {
		t.Fatalf("default arms = %v, %v", all, err)
	}
	two, err := Select([]string{"hdd-tuned", "ssd"})
	if err != nil || len(two) != 2 || two[0].Name != "hdd-tuned" {
		t.Fatalf("Select(hdd-tuned, ssd) = %v, %v; want the order given", two, err)
	}
	story, err := Select([]string{"ssd", "hdd", "hdd@v3.4.23", "hdd-tuned@v3.4.23", "hdd-noprevote"})
	if err != nil || len(story) != 5 {
		t.Fatalf("the story's arms: %v, %v", story, err)
	}
	if a := story[2]; a.Name != "hdd@v3.4.23" || a.EtcdVersion != "v3.4.23" || a.Profile != "hdd" || a.Expect != "" {
		t.Errorf("hdd@v3.4.23 = %+v", a)
	}
	if a := story[3]; !a.Tuned || a.EtcdVersion != "v3.4.23" {
		t.Errorf("hdd-tuned@v3.4.23 = %+v", a)
	}
	if a := story[4]; !a.NoPreVote || a.EtcdVersion != "" || a.Election != time.Second {
		t.Errorf("hdd-noprevote = %+v", a)
	}
	for names, want := range map[string]string{
		"nvme":          "ssd, hdd, hdd-tuned, hdd-noprevote",
		"hdd@3.4":       `"3.4" is not an etcd version`,
		"ssd,ssd":       "names ssd twice",
		"nvme@v3.4.23":  `no arm "nvme"`,
		"hdd@v3.4.23x1": "is not an etcd version",
	} {
		if _, err := Select(strings.Split(names, ",")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Select(%s) = %v, want %q", names, err, want)
		}
	}
}
