package report

import (
	"cmp"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// span is an interval of an arm's time line.
type span struct{ from, to measure.Seconds }

// election is the moment the cluster is first seen with a new leader.
type election struct {
	at     measure.Seconds
	leader string
	term   uint64
}

// timeline reads the samples as the cluster's history: the spans in which
// no member knew a leader, and the moments a leader (or the same one, at a
// new term) took over. At any sample the cluster's leader is the one named
// at the highest term among the members' latest answers, so a member that
// has not yet heard of an election does not hide it. Before the first
// sample the arm's members had just started: no leader.
func timeline(samples []Sample) (leaderless []span, elections []election) {
	samples = sortedSamples(samples)
	latest := map[string]Sample{}
	var (
		current  Sample // the leader's latest sample; Leader "" when none
		openFrom measure.Seconds
		open     = true
	)
	for _, s := range samples {
		latest[s.Member] = s
		now := leaderOf(latest)
		switch {
		case now.Leader == "" && !open:
			open, openFrom = true, s.At
		case now.Leader != "" && open:
			open = false
			if s.At > openFrom {
				leaderless = append(leaderless, span{openFrom, s.At})
			}
		}
		if now.Leader != "" && (now.Leader != current.Leader || now.Term != current.Term) {
			elections = append(elections, election{s.At, now.Leader, now.Term})
		}
		if now.Leader != "" {
			current = now
		}
	}
	if open && len(samples) > 0 {
		if end := samples[len(samples)-1].At; end > openFrom {
			leaderless = append(leaderless, span{openFrom, end})
		}
	}
	return leaderless, elections
}

// leaderOf returns the latest sample naming a leader at the highest term
// (ties by leader name, for determinism), or a zero Sample.
func leaderOf(latest map[string]Sample) Sample {
	var best Sample
	for _, s := range latest {
		if s.Leader == "" {
			continue
		}
		if best.Leader == "" || cmp.Or(cmp.Compare(s.Term, best.Term), cmp.Compare(best.Leader, s.Leader)) > 0 {
			best = s
		}
	}
	return best
}
