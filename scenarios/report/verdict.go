package report

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// The outcomes an arm can have, as Outcome returns them and Arm.Expect names
// them.
const (
	OutcomeStable   = "stable"
	OutcomeUnstable = "unstable"
)

// Stable reports whether the arm's cluster kept one leader after its first
// election. Precisely, all of:
//
//  1. a leader was elected (TimeToFirstLeader is not Never);
//  2. no change of leader after the first (LeaderChanges, check perf's
//     left out);
//  3. let L and T be the leader and term of the earliest sample naming a
//     leader: every sample from then on names L or no leader and reports a
//     term ≤ T, and MaxTerm ≤ T — no member started a term after the first
//     leader's, which is what an election does;
//  4. from that sample on, at every sample some member's latest answer
//     names L: the cluster was never without its leader.
//
// Elections before the first leader (a bootstrap may need several) do not
// count against an arm; how long they took is Verdict's business. The
// "starting a new election" log lines carry the guests' clocks, so the
// samples, not the lines, decide what happened after the first leader. When
// no sample names a leader, conditions 1 and 2 decide alone. Only the
// bootstrap's and the observation's samples are judged (check perf's
// window is shown, not judged); MaxTerm, which covers every phase, counts
// only when the arm's windows are unknown.
func Stable(a Arm) bool {
	if !a.Elected() || judgedChanges(a) > 0 {
		return false
	}
	samples := sortedSamples(judgedSamples(a))
	first := -1
	for i, s := range samples {
		if s.Leader != "" {
			first = i
			break
		}
	}
	if first < 0 {
		return true
	}
	leader, term := samples[first].Leader, samples[first].Term
	if a.Phases.ObservationEnd <= 0 && uint64(a.MaxTerm) > term {
		// No windows to judge in: every term counts.
		return false
	}
	latest := map[string]Sample{}
	for _, s := range samples[:first] {
		latest[s.Member] = s
	}
	for _, s := range samples[first:] {
		if (s.Leader != "" && s.Leader != leader) || s.Term > term {
			return false
		}
		latest[s.Member] = s
		if !anyNames(latest, leader) {
			return false
		}
	}
	return true
}

func anyNames(latest map[string]Sample, leader string) bool {
	for _, s := range latest {
		if s.Leader == leader {
			return true
		}
	}
	return false
}

// Outcome is OutcomeStable when Stable(a), OutcomeUnstable otherwise
// (never electing a leader is unstable too).
func Outcome(a Arm) string {
	if Stable(a) {
		return OutcomeStable
	}
	return OutcomeUnstable
}

// Verdict says in one line what happened to the arm's cluster. The first
// rule that matches decides:
//
//   - no leader ever: "never elected a leader: E elections, term T";
//   - Stable, but the first leader took more than ten election timeouts:
//     "stable once elected, but the first leader took D (E elections, term T)";
//   - Stable: "stable: one leader throughout, elected after D";
//   - otherwise: "unstable: " and what went wrong — the leader changes
//     beyond the first, the elections, the highest term and the time
//     without a leader, each when there is something to say.
func Verdict(a Arm) string {
	elections := plural(a.Elections, "election", "elections")
	switch {
	case !a.Elected():
		return fmt.Sprintf("never elected a leader: %s, %s", elections, termPhrase(a))
	case Stable(a) && SlowFirstLeader(a):
		return fmt.Sprintf("stable once elected, but the first leader took %s (%s, %s)",
			formatDuration(a.TimeToFirstLeader), elections, termPhrase(a))
	case Stable(a):
		return "stable: one leader throughout, elected after " + formatDuration(a.TimeToFirstLeader)
	}
	var parts []string
	if n := judgedChanges(a); n > 0 {
		parts = append(parts, plural(n, "leader change", "leader changes"))
	}
	if a.Elections > 0 {
		parts = append(parts, elections)
	}
	parts = append(parts, termPhrase(a))
	if d := judgedWithout(a); d > 0 {
		parts = append(parts, formatDuration(d)+" without a leader")
	}
	return "unstable: " + strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// termPhrase is the arm's highest raft term in words: the status rounds'
// when a member answered one, else the highest the journal's election
// lines name, else none — never "term 0", which no member reports.
func termPhrase(a Arm) string {
	switch {
	case a.MaxTerm.Known():
		return fmt.Sprintf("term %d", a.MaxTerm)
	case a.JournalMaxTerm.Known():
		return fmt.Sprintf("term %d in the journal (no member answered a status round)", a.JournalMaxTerm)
	}
	return "no term reported"
}

// termCell is a term for a table cell: the number, or "–" when unknown.
func termCell(t measure.Term) string {
	if !t.Known() {
		return "–"
	}
	return strconv.FormatUint(uint64(t), 10)
}

// The leadership verdicts judge the bootstrap and the observation: the
// workload the arm is about. Check perf's stress is shown beside them, in
// its own window, not judged.

// judgedChanges are the leader changes after the first, check perf's left
// out.
func judgedChanges(a Arm) int { return a.LeaderChanges - a.LeaderChangesByPhase.CheckPerf }

// judgedWithout is the time without a leader after the first, check
// perf's left out.
func judgedWithout(a Arm) measure.Seconds {
	return a.TimeWithoutLeader - a.TimeWithoutLeaderByPhase.CheckPerf
}

// judgedSamples are the status rounds of the bootstrap and the
// observation; all of them when the arm's windows are unknown.
func judgedSamples(a Arm) []Sample {
	end := a.Phases.ObservationEnd
	if end <= 0 {
		return a.Samples
	}
	var out []Sample
	for _, s := range a.Samples {
		if s.At < end {
			out = append(out, s)
		}
	}
	return out
}
