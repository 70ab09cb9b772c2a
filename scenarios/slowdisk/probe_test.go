package slowdisk

import (
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/guest"
)

// Only the tuned arms probe for the full time: their timeouts are the
// probe's p99.
func TestProbeFor(t *testing.T) {
	o := guest.ProbeOptions{Count: 300, MaxTime: 30 * time.Second, Dir: "/var/lib/etcd"}
	for _, a := range append(append([]Arm{}, Arms...), ExtraArms...) {
		got := probeFor(a, o)
		want := FixedProbeTime
		if a.Tuned {
			want = 30 * time.Second
		}
		if got.MaxTime != want || got.Count != 300 || got.Dir != o.Dir {
			t.Errorf("%s: probe %+v, want 300 writes or %s in %s", a.Name, got, want, o.Dir)
		}
	}
	// A shorter bound asked for is kept.
	short := guest.ProbeOptions{Count: 300, MaxTime: 5 * time.Second}
	if got := probeFor(Arms[1], short); got.MaxTime != 5*time.Second {
		t.Errorf("hdd with a 5 s probe asked for: %s", got.MaxTime)
	}
}
