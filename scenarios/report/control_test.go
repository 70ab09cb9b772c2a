package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// TestControlHealthy: the story's control (first leader 3.4 s, probe p99
// 7.9 ms, no steal) can judge the others.
func TestControlHealthy(t *testing.T) {
	r := story()
	r.Arms[0].CPU = CPU{Measured: true, Steal: 0.01, GuestLoad: 0.4, HostLoad: 2.5, HostCPUs: 2}
	c := Control(r)
	if !c.Healthy || c.Arm != "ssd" || len(c.Rules) != 3 {
		t.Fatalf("control = %+v, want ssd healthy by three rules", c)
	}
	if !strings.HasPrefix(c.Line(), "control ssd healthy: first leader after 3.4 s ≤ 10 × the election timeout (10 s) ✓") {
		t.Errorf("line = %q", c.Line())
	}
}

// TestStarvedControlIsInconclusive: each of the control's rules alone makes
// the run inconclusive, says so with the figure, and fails the contrast
// check that --strict uses.
func TestStarvedControlIsInconclusive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		starve func(*Arm)
		says   string
	}{
		// The loaded run: 17 s to the first leader, probe p99 137 ms.
		{"slow first leader", func(a *Arm) { a.TimeToFirstLeader = measure.Seconds(17 * time.Second) }, "first leader after 17 s ≤ 10 × the election timeout (10 s) ✗"},
		{"slow probe", func(a *Arm) { a.FsyncP99 = measure.Seconds(450 * time.Millisecond) }, "probe fsync p99 450 ms ≤ 200 ms ✗"},
		{"CPU steal", func(a *Arm) { a.CPU = CPU{Measured: true, Steal: 0.25, HostCPUs: 2} }, "guest CPU steal 25 % ≤ 10 % ✗"},
		{"never elected", func(a *Arm) { a.TimeToFirstLeader = Never }, "no leader ever elected ✗"},
	} {
		r := story()
		tc.starve(&r.Arms[0])
		c := Control(r)
		if c.Healthy {
			t.Errorf("%s: control healthy", tc.name)
			continue
		}
		if !strings.HasPrefix(c.Line(), Inconclusive) || !strings.Contains(c.Line(), tc.says) {
			t.Errorf("%s: line = %q, want %q and %q", tc.name, c.Line(), Inconclusive, tc.says)
		}
		var md, js bytes.Buffer
		if err := WriteMarkdown(&md, r, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md.String(), "**Inconclusive: this host is too slow to judge.**") {
			t.Errorf("%s: report.md does not say inconclusive", tc.name)
		}
		if err := WriteJSON(&js, r); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(js.String(), `"healthy": false`) {
			t.Errorf("%s: report.json does not say the control is unhealthy", tc.name)
		}
	}
}

// TestVerdicts: leadership and disk fitness, each with its rules. The
// story's hdd-tuned keeps its leader on a disk unfit for etcd.
func TestVerdicts(t *testing.T) {
	r := story()
	ssd, hdd, tuned := r.Arms[0], r.Arms[1], r.Arms[2]
	for _, tc := range []struct {
		arm        Arm
		lead, disk string
	}{
		{ssd, LeadershipStable, "fit"},
		{hdd, LeadershipUnstable, "unfit (puts p99 4.9 s)"},
		{tuned, LeadershipStable, "unfit (puts p99 2.3 s)"},
		{func() Arm { a := hdd; a.TimeToFirstLeader = Never; return a }(), LeadershipNever, "unfit (puts p99 4.9 s)"},
		// Fast puts on a disk etcd's guidance rejects: below it, not unfit.
		{func() Arm { a := ssd; a.FsyncP99 = measure.Seconds(45 * time.Millisecond); return a }(), LeadershipStable, "below etcd's guidance"},
		{func() Arm { a := ssd; a.PutErrors = 1; return a }(), LeadershipStable, "unfit (puts p99 14 ms)"},
	} {
		lead, rule := Leadership(tc.arm, &ssd)
		disk, rules := DiskFitness(tc.arm)
		if lead != tc.lead || disk != tc.disk {
			t.Errorf("%s: leadership %q, disk %q; want %q, %q", tc.arm.Name, lead, disk, tc.lead, tc.disk)
		}
		if !strings.Contains(rule, "max term") || len(rules) != 3 {
			t.Errorf("%s: rule %q, disk rules %v: want the figures beside the rules", tc.arm.Name, rule, rules)
		}
	}
	_, rule := Leadership(hdd, &ssd)
	if !strings.Contains(rule, "first leader after 14.4 s (4.24 × the control's), 53 elections (control 2)") {
		t.Errorf("hdd's rule = %q, want it judged against the control", rule)
	}
	_, rules := DiskFitness(tuned)
	if got := rulesText(rules); !strings.Contains(got, "puts p99 2.3 s ≤ 1 s, 0/44 failed (the Kubernetes API's SLO) ✗") ||
		!strings.Contains(got, "probe fsync p99 1.11 s ≤ 10 ms (etcd's guidance) ✗") {
		t.Errorf("hdd-tuned's disk rules = %q", got)
	}
}
