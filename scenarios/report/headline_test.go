package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

func TestHeadline(t *testing.T) {
	r := story()
	h := Headline(r)
	if len(h) != 3 {
		t.Fatalf("headline = %q, want three lines", h)
	}
	for i, want := range []string{
		"Failed: hdd (hdd disk, fsync p99 1.12 s, 100 ms / 1000 ms) lost its leader: first after 14.4 s, 4 changes after it, 53 elections, puts p99 4.9 s, 17/41 failed.",
		"ssd (ssd disk, fsync p99 7.9 ms, 100 ms / 1000 ms) kept one leader, elected after 3.4 s; disk fit",
		"Host: control ssd healthy",
	} {
		if !strings.Contains(h[i], want) {
			t.Errorf("line %d = %q, want %q", i+1, h[i], want)
		}
	}
	if !strings.Contains(h[1], "hdd-tuned (hdd disk, fsync p99 1.11 s, 600 ms / 6000 ms) kept one leader, elected after 12.4 s, but its disk is unfit (puts p99 2.3 s)") {
		t.Errorf("fixed line = %q, want hdd-tuned's unfit disk named", h[1])
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r, nil); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(md.String(), "\n"); !strings.HasPrefix(lines[2], "**Failed: hdd") || !strings.HasPrefix(lines[4], "**Host: ") {
		t.Errorf("report.md does not open with the headline:\n%s", strings.Join(lines[:6], "\n"))
	}

	never := story()
	never.Arms[1].TimeToFirstLeader, never.Arms[1].EtcdVersion = Never, "3.4.23"
	never.Arms[0].TimeToFirstLeader = measure.Seconds(17 * time.Second) // a starved control
	h = Headline(never)
	if !strings.Contains(h[0], "hdd (hdd disk, fsync p99 1.12 s, etcd 3.4.23, 100 ms / 1000 ms) never elected a leader: 53 elections, term 40") {
		t.Errorf("never elected: %q", h[0])
	}
	if !strings.HasPrefix(h[2], "Host: Inconclusive: this host is too slow to judge") {
		t.Errorf("starved control: %q", h[2])
	}
}

// TestHeadlineStruggled: TestLab's hdd arm on etcd 3.6 limped into a
// leader after 26.5 s and kept it while half its puts failed; the headline
// names it as what failed, not as fixed.
func TestHeadlineStruggled(t *testing.T) {
	r := story()
	hdd := &r.Arms[1]
	hdd.Samples, hdd.LeaderChanges, hdd.MaxTerm, hdd.TimeWithoutLeader = nil, 0, 3, 0
	hdd.TimeToFirstLeader, hdd.Elections, hdd.PutErrors, hdd.PutCount = measure.Seconds(26500*time.Millisecond), 5, 74, 151
	h := Headline(r)
	if !strings.Contains(h[0], "hdd (hdd disk, fsync p99 1.12 s, 100 ms / 1000 ms) struggled to elect its first leader: after 26.5 s (26.5 × its election timeout), 5 elections, puts p99 4.9 s, 74/151 failed") {
		t.Errorf("failed line = %q", h[0])
	}
	if strings.Contains(h[1], "hdd (") {
		t.Errorf("fixed line names hdd: %q", h[1])
	}
}
