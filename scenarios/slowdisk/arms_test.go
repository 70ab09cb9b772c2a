package slowdisk

import (
	"strings"
	"testing"
	"time"
)

func TestTune(t *testing.T) {
	for _, tc := range []struct{ p99, hb, el time.Duration }{
		{8 * time.Millisecond, 100 * time.Millisecond, time.Second},
		{1050 * time.Millisecond, 600 * time.Millisecond, 6 * time.Second},
		{2880 * time.Millisecond, 1500 * time.Millisecond, 15 * time.Second},
		{20 * time.Second, 10 * time.Second, 50 * time.Second}, // etcd's 50 s cap
	} {
		hb, el := Tune(tc.p99)
		if hb != tc.hb || el != tc.el {
			t.Errorf("Tune(%s) = %s/%s, want %s/%s", tc.p99, hb, el, tc.hb, tc.el)
		}
		if el < 5*hb || el > 50*time.Second {
			t.Errorf("Tune(%s) = %s/%s breaks etcd's rules", tc.p99, hb, el)
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
