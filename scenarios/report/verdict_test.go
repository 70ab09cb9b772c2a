package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// s is a sample at sec seconds.
func s(sec float64, member string, term uint64, leader string) Sample {
	return Sample{At: dur(sec), Member: member, Term: term, Leader: leader}
}

// settled is an arm whose cluster elected k8smaster1 at term 2 after 3 s
// and kept it; the cases below each break one condition of Stable.
func settled() Arm {
	return Arm{
		Name:              "x",
		Election:          measure.Seconds(time.Second),
		LeaderChanges:     0,
		Elections:         2,
		MaxTerm:           2,
		TimeToFirstLeader: measure.Seconds(3 * time.Second),
		Samples: []Sample{
			s(1, "a", 1, ""), s(1, "b", 1, ""), s(1, "c", 1, ""),
			// c has not heard of the election yet: that is not instability.
			s(3, "a", 2, "b"), s(3, "b", 2, "b"), s(3, "c", 1, ""),
			s(4, "a", 2, "b"), s(4, "b", 2, "b"), s(4, "c", 2, "b"),
			s(5, "a", 2, "b"), s(5, "b", 2, "b"), s(5, "c", 2, "b"),
		},
	}
}

func TestStable(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Arm)
		stable bool
	}{
		{"one leader kept", func(*Arm) {}, true},
		{"story ssd", func(a *Arm) { *a = story().Arms[0] }, true},
		{"story hdd", func(a *Arm) { *a = story().Arms[1] }, false},
		{"story hdd-tuned", func(a *Arm) { *a = story().Arms[2] }, true},
		{"never elected", func(a *Arm) { a.TimeToFirstLeader = Never }, false},
		{"a leader change after the first", func(a *Arm) { a.LeaderChanges = 1 }, false},
		{"no samples: the counters decide", func(a *Arm) { a.Samples = nil }, true},
		{"no samples and a change", func(a *Arm) { a.Samples, a.LeaderChanges = nil, 1 }, false},
		{"many elections during bootstrap", func(a *Arm) {
			a.Elections, a.MaxTerm = 9, 6
			for i := range a.Samples {
				if a.Samples[i].Leader != "" {
					a.Samples[i].Term = 6
				}
			}
		}, true},
		{"a member later names another leader", func(a *Arm) {
			a.Samples = append(a.Samples, s(6, "c", 2, "a"))
		}, false},
		{"a member later reaches a higher term", func(a *Arm) {
			a.Samples = append(a.Samples, s(6, "c", 3, ""))
		}, false},
		{"the same leader re-elected at a higher term", func(a *Arm) {
			a.Samples = append(a.Samples, s(6, "a", 3, "b"), s(6, "b", 3, "b"), s(6, "c", 3, "b"))
		}, false},
		{"a higher term outside the samples", func(a *Arm) { a.MaxTerm = 3 }, false},
		{"every member lost the leader", func(a *Arm) {
			a.Samples = append(a.Samples, s(6, "a", 2, ""), s(6, "b", 2, ""), s(6, "c", 2, ""),
				s(7, "a", 2, "b"), s(7, "b", 2, "b"), s(7, "c", 2, "b"))
		}, false},
		{"one follower briefly without a leader", func(a *Arm) {
			a.Samples = append(a.Samples, s(6, "c", 2, ""), s(6, "b", 2, "b"))
		}, true},
		{"samples out of order", func(a *Arm) {
			a.Samples[0], a.Samples[len(a.Samples)-1] = a.Samples[len(a.Samples)-1], a.Samples[0]
		}, true},
	}
	for _, tt := range tests {
		a := settled()
		tt.edit(&a)
		if got := Stable(a); got != tt.stable {
			t.Errorf("%s: Stable = %v, want %v", tt.name, got, tt.stable)
		}
		want := OutcomeUnstable
		if tt.stable {
			want = OutcomeStable
		}
		if got := Outcome(a); got != want {
			t.Errorf("%s: Outcome = %q, want %q", tt.name, got, want)
		}
	}
}

func TestVerdict(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Arm)
		want string
	}{
		{"stable", func(*Arm) {}, "stable: one leader throughout, elected after 3 s"},
		{"slow start", func(a *Arm) {
			a.TimeToFirstLeader, a.Elections, a.MaxTerm = measure.Seconds(33*time.Second), 6, 2
		}, "stable once elected, but the first leader took 33 s (6 elections, term 2)"},
		{"ten election timeouts is not slow yet", func(a *Arm) { a.TimeToFirstLeader = measure.Seconds(10 * time.Second) },
			"stable: one leader throughout, elected after 10 s"},
		{"never", func(a *Arm) {
			a.TimeToFirstLeader, a.Elections, a.MaxTerm, a.Samples = Never, 107, 108, nil
		}, "never elected a leader: 107 elections, term 108"},
		{"never, one election", func(a *Arm) {
			a.TimeToFirstLeader, a.Elections, a.MaxTerm, a.Samples = Never, 1, 2, nil
		}, "never elected a leader: 1 election, term 2"},
		{"story hdd", func(a *Arm) { *a = story().Arms[1] },
			"unstable: 4 leader changes, 53 elections, term 40, 30 s without a leader"},
		{"unstable without leader changes", func(a *Arm) {
			a.MaxTerm, a.TimeWithoutLeader = 3, measure.Seconds(1500*time.Millisecond)
		}, "unstable: 2 elections, term 3, 1.5 s without a leader"},
	}
	for _, tt := range tests {
		a := settled()
		tt.edit(&a)
		if got := Verdict(a); got != tt.want {
			t.Errorf("%s: Verdict = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestNoFigureIsInvented: an arm whose members never answered a status
// round (the story's 3.4 cluster: no leader, so no member serves) has no
// term and, with every put failed at once, no put p99. Neither may show
// as a number.
func TestNoFigureIsInvented(t *testing.T) {
	a := Arm{Name: "hdd@v3.4.23", Profile: "hdd", TimeToFirstLeader: Never, Elections: 165, PutCount: 300, PutErrors: 300,
		PutP99: measure.None, WALFsyncMean: measure.None, Election: measure.Seconds(time.Second)}
	if got, want := Verdict(a), "never elected a leader: 165 elections, no term reported"; got != want {
		t.Errorf("Verdict = %q, want %q", got, want)
	}
	a.JournalMaxTerm = 166
	if got, want := Verdict(a), "never elected a leader: 165 elections, term 166 in the journal (no member answered a status round)"; got != want {
		t.Errorf("Verdict = %q, want %q", got, want)
	}
	r := Report{Arms: []Arm{a}}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, r, nil); err != nil {
		t.Fatal(err)
	}
	body, _, _ := strings.Cut(md.String(), "## Glossary")
	for _, bad := range []string{"term 0", "0 s, 300/300", "ms, 300/300", "µs"} {
		if strings.Contains(body, bad) {
			t.Errorf("report.md shows %q for a figure that does not exist:\n%s", bad, md.String())
		}
	}
	if !strings.Contains(md.String(), "| put p99, errors (observation) | –, 300/300 failed |") {
		t.Errorf("report.md's put row does not show – for the p99:\n%s", md.String())
	}
	fit, rules := DiskFitness(a)
	if fit != "unfit (puts p99 –)" || !strings.Contains(rulesText(rules), "puts p99 – ≤ 1 s, 300/300 failed") {
		t.Errorf("DiskFitness = %q, %s", fit, rulesText(rules))
	}
	if got := formatDuration(measure.None); got != "none" {
		t.Errorf("formatDuration(None) = %q, want none", got)
	}
	for _, chart := range [][]byte{LeadershipSVG(r), LeaderTermSVG(r), FsyncSVG(r)} {
		if bytes.Contains(chart, []byte("term 0")) || bytes.Contains(chart, []byte("-0.0")) {
			t.Errorf("a chart invents a figure:\n%s", chart)
		}
	}
}

// TestCheckPerfIsShownNotJudged: a leader lost under check perf's stress
// shows in check perf's window and leaves the arm's outcome alone.
func TestCheckPerfIsShownNotJudged(t *testing.T) {
	a := settled()
	a.Phases = Phases{ObservationStart: dur(3), ObservationEnd: dur(9), End: dur(12)}
	for at := 9.0; at < 12; at++ {
		a.Samples = append(a.Samples, s(at, "a", 3, "a"))
	}
	a.LeaderChanges, a.LeaderChangesByPhase, a.MaxTerm = 1, PhaseCounts{CheckPerf: 1}, 3
	if !Stable(a) {
		t.Errorf("an arm that lost its leader in check perf only is not stable: %s", Verdict(a))
	}
	var b bytes.Buffer
	if err := Table(&b, Report{Arms: []Arm{a}}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^leader changes after the first \(bootstrap / observation / check perf\) +0 / 0 / 1$`).MatchString(b.String()) {
		t.Errorf("the table does not show check perf's leader change in its window:\n%s", b.String())
	}
	a.Phases = Phases{}
	if Stable(a) {
		t.Errorf("with no windows known, a change of leader and term after the first counts")
	}
}

func TestTimeline(t *testing.T) {
	samples := []Sample{
		s(1, "a", 1, ""), s(1, "b", 1, ""),
		s(2, "a", 2, "a"), s(2, "b", 1, ""), // a elected at term 2; b lags
		s(3, "a", 2, "a"), s(3, "b", 2, "a"),
		s(4, "a", 3, ""), s(4, "b", 3, ""), // leader lost
		s(5, "a", 4, ""), s(5, "b", 4, ""),
		s(6, "a", 4, "a"), s(6, "b", 4, "a"), // a again, at term 4
		s(7, "a", 5, "b"), s(7, "b", 5, "b"), // b takes over
	}
	leaderless, elections := timeline(samples)
	wantSpans := []span{{0, dur(2)}, {dur(4), dur(6)}}
	if len(leaderless) != len(wantSpans) {
		t.Fatalf("leaderless = %v, want %v", leaderless, wantSpans)
	}
	for i := range wantSpans {
		if leaderless[i] != wantSpans[i] {
			t.Errorf("leaderless[%d] = %v, want %v", i, leaderless[i], wantSpans[i])
		}
	}
	wantElections := []election{{dur(2), "a", 2}, {dur(6), "a", 4}, {dur(7), "b", 5}}
	if len(elections) != len(wantElections) {
		t.Fatalf("elections = %v, want %v", elections, wantElections)
	}
	for i := range wantElections {
		if elections[i] != wantElections[i] {
			t.Errorf("elections[%d] = %v, want %v", i, elections[i], wantElections[i])
		}
	}

	never, none := timeline([]Sample{s(1, "a", 5, ""), s(9, "a", 9, "")})
	if len(none) != 0 || len(never) != 1 || never[0] != (span{0, dur(9)}) {
		t.Errorf("no leader ever: leaderless %v, elections %v; want one span 0–9 s and no election", never, none)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 s"},
		{420 * time.Microsecond, "0.42 ms"},
		{8 * time.Millisecond, "8 ms"},
		{8040 * time.Microsecond, "8.04 ms"},
		{9996 * time.Microsecond, "10 ms"},
		{123 * time.Millisecond, "123 ms"},
		{999600 * time.Microsecond, "1 s"},
		{1120 * time.Millisecond, "1.12 s"},
		{31200 * time.Millisecond, "31.2 s"},
		{312 * time.Second, "312 s"},
		{4000 * time.Second, "4000 s"},
	}
	for _, tt := range tests {
		if got := formatDuration(tt.d); got != tt.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
