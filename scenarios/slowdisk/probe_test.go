package slowdisk

import (
	"context"
	"errors"

	"testing"
	"time"

	"github.com/kthw-lab/lab/progress"

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

// Arms in a row on an unchanged disk set its profile once and share an
// identical probe; another profile or other probe options measure again.
func TestUnchangedDiskIsNotProbedAgain(t *testing.T) {
	var applied, probed int
	r := &runner{backoff: backoff{Attempts: 1}, Options: Options{Progress: progress.Discard}}
	r.applyProfile = func(context.Context, guest.Profile) error { applied++; return nil }
	r.probeDisks = func(_ context.Context, o guest.ProbeOptions) ([]guest.ProbeResult, error) {
		probed++
		return []guest.ProbeResult{{Node: "n", P99: time.Duration(probed) * time.Second}}, nil
	}
	hdd, ssd := guest.Profile{Name: guest.HDD, FlushDelay: time.Second}, guest.Profile{Name: guest.SSD}
	short, long := guest.ProbeOptions{Count: 300, MaxTime: 10 * time.Second}, guest.ProbeOptions{Count: 300, MaxTime: 30 * time.Second}
	ctx := context.Background()
	step := func(arm string, p guest.Profile, o guest.ProbeOptions) (time.Duration, string) {
		t.Helper()
		if err := r.setProfile(ctx, p); err != nil {
			t.Fatal(err)
		}
		res, from, err := r.probeOnce(ctx, arm, t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		return res[0].P99, from
	}
	if p99, from := step("hdd", hdd, short); p99 != time.Second || from != "" {
		t.Errorf("hdd: p99 %s from %q, want its own probe", p99, from)
	}
	if p99, from := step("hdd@v3.4.23", hdd, short); p99 != time.Second || from != "hdd" {
		t.Errorf("hdd@v3.4.23: p99 %s from %q, want hdd's probe", p99, from)
	}
	if p99, from := step("hdd-tuned", hdd, long); p99 != 2*time.Second || from != "" {
		t.Errorf("hdd-tuned (a longer probe): p99 %s from %q, want a probe of its own", p99, from)
	}
	if p99, from := step("ssd", ssd, short); p99 != 3*time.Second || from != "" {
		t.Errorf("ssd: p99 %s from %q, want a probe of its own", p99, from)
	}
	if p99, from := step("hdd again", hdd, short); p99 != 4*time.Second || from != "" {
		t.Errorf("hdd after ssd: p99 %s from %q, want a new probe (the disk changed twice)", p99, from)
	}
	if applied != 3 || probed != 4 {
		t.Errorf("profile set %d times, probed %d times; want 3 and 4", applied, probed)
	}
	// A profile that failed to apply leaves the disks unknown: the next arm
	// sets it again, whatever it asks for.
	r.applyProfile = func(context.Context, guest.Profile) error { applied++; return errors.New("ssh: handshake timeout") }
	if err := r.setProfile(ctx, ssd); err == nil {
		t.Fatal("a failed profile reported success")
	}
	r.applyProfile = func(context.Context, guest.Profile) error { applied++; return nil }
	step("hdd after a failure", hdd, short)
	if applied != 5 || probed != 5 {
		t.Errorf("after a failed profile: set %d times, probed %d times; want 5 and 5", applied, probed)
	}
}
