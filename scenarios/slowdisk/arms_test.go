package slowdisk

import (
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
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
		if el < etcd.MinElectionHeartbeatRatio*hb || el > etcd.MaxElectionTimeout {
			t.Errorf("Tune(%s) = %s/%s breaks etcd's limits", tc.rtt, hb, el)
		}
		if el < etcd.MaxElectionTimeout && (el < 10*tc.rtt || hb < tc.rtt/2 || hb > tc.rtt*3/2+100*time.Millisecond) {
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
	if err != nil || len(two) != 2 || two[0].Name != "ssd" {
		t.Fatalf("Select(hdd-tuned, ssd) = %v, %v; want scenario order", two, err)
	}
	if _, err := Select([]string{"nvme"}); err == nil || !strings.Contains(err.Error(), "ssd, hdd, hdd-tuned") {
		t.Fatalf("unknown arm: %v", err)
	}
}
