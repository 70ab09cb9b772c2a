package measure

import (
	"context"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
)

// StatusFunc asks every member for its status; (*etcd.Client).EndpointStatus
// is one.
type StatusFunc func(ctx context.Context) ([]etcd.Status, error)

// Sample is one member's answer in one round of status requests.
type Sample struct {
	// At is when the round was asked, from the arm's start.
	At time.Duration
	// Member is the member's name, or its endpoint when the Sampler has no
	// name for it.
	Member string
	ID     etcd.MemberID
	Term   uint64
	// Leader is the member it follows; 0 when it knows no leader.
	Leader etcd.MemberID
	// Err is why the member did not answer.
	Err error
}

// Sampler asks every member for its raft term and leader at a steady
// interval.
type Sampler struct {
	Status StatusFunc
	// Interval is the time between rounds; 1 s when zero.
	Interval time.Duration
	// Start is the arm's start, which Sample.At counts from; when zero,
	// the moment Run begins.
	Start time.Time
	// Names maps endpoints to member names.
	Names map[string]string
}

// Run samples until ctx is done and returns what it saw. Rounds start on
// the interval's beats from the first; a round slower than the interval
// makes the sampler skip the beats it missed rather than catch up. A round
// that ctx cut short is dropped: its errors would be Run's own.
func (s *Sampler) Run(ctx context.Context) Timeline {
	interval := s.Interval
	if interval <= 0 {
		interval = time.Second
	}
	start := s.Start
	if start.IsZero() {
		start = time.Now()
	}
	var tl Timeline
	next := time.Since(start)
	for !expired(ctx) {
		at := time.Since(start)
		statuses, err := s.Status(ctx)
		if ctx.Err() != nil {
			break
		}
		tl.Samples = append(tl.Samples, s.round(at, statuses, err)...)
		now := time.Since(start)
		for next <= now {
			next += interval
		}
		timer := time.NewTimer(next - now)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
	}
	tl.End = time.Since(start)
	return tl
}

// expired says whether ctx is done or its deadline has come, which a timer
// firing at the same instant may see before ctx does.
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

func (s *Sampler) round(at time.Duration, statuses []etcd.Status, err error) []Sample {
	if len(statuses) == 0 {
		// Nobody could be asked: the round saw no leader.
		return []Sample{{At: at, Err: err}}
	}
	out := make([]Sample, 0, len(statuses))
	for _, st := range statuses {
		name := st.Endpoint
		if n, ok := s.Names[st.Endpoint]; ok {
			name = n
		}
		out = append(out, Sample{At: at, Member: name, ID: st.ID, Term: st.RaftTerm, Leader: st.Leader, Err: st.Err})
	}
	return out
}

// Timeline is what a Sampler recorded in an arm.
type Timeline struct {
	// Samples are in the order asked; those of one round share At.
	Samples []Sample
	// End is when sampling stopped, from the arm's start.
	End time.Duration
}

// Rounds groups the samples by round.
func (t Timeline) Rounds() [][]Sample {
	var rounds [][]Sample
	for i, s := range t.Samples {
		if i == 0 || s.At != t.Samples[i-1].At {
			rounds = append(rounds, nil)
		}
		rounds[len(rounds)-1] = append(rounds[len(rounds)-1], s)
	}
	return rounds
}

// RoundLeader is the leader a round saw: the one named by the member with
// the highest term, which has the latest view. ok is false when no member
// that answered knew a leader.
func RoundLeader(round []Sample) (leader etcd.MemberID, term uint64, ok bool) {
	for _, s := range round {
		if s.Err == nil && s.Leader != 0 && (!ok || s.Term > term) {
			leader, term, ok = s.Leader, s.Term, true
		}
	}
	return leader, term, ok
}

// TimeToFirstLeader is when a member first reported a leader; ok is false
// when none ever did.
func (t Timeline) TimeToFirstLeader() (d time.Duration, ok bool) {
	for _, r := range t.Rounds() {
		if _, _, ok := RoundLeader(r); ok {
			return r[0].At, true
		}
	}
	return 0, false
}

// LeaderChanges counts the times the leader differed from the one seen
// before it (rounds without a leader in between do not count); the first
// leader is not a change. A member re-elected after losing its leadership
// is no change either: MaxTerm tells the elections.
func (t Timeline) LeaderChanges() int {
	var prev etcd.MemberID
	changes := 0
	for _, r := range t.Rounds() {
		leader, _, ok := RoundLeader(r)
		if !ok {
			continue
		}
		if prev != 0 && leader != prev {
			changes++
		}
		prev = leader
	}
	return changes
}

// TimeWithoutLeader is how long the cluster was without a leader after its
// first one: from each round in which no member reported a leader to the
// next round (or to End). The bootstrap before the first leader is not in
// it (TimeToFirstLeader is); when no leader was ever reported, it is the
// whole timeline, 0 to End.
func (t Timeline) TimeWithoutLeader() time.Duration {
	first, elected := t.TimeToFirstLeader()
	if !elected {
		return t.End
	}
	rounds := t.Rounds()
	var total time.Duration
	for i, r := range rounds {
		if _, _, ok := RoundLeader(r); ok || r[0].At < first {
			continue
		}
		next := t.End
		if i+1 < len(rounds) {
			next = rounds[i+1][0].At
		}
		if next > r[0].At {
			total += next - r[0].At
		}
	}
	return total
}

// MaxTerm is the highest raft term any member reported.
func (t Timeline) MaxTerm() uint64 {
	var highest uint64
	for _, s := range t.Samples {
		if s.Err == nil && s.Term > highest {
			highest = s.Term
		}
	}
	return highest
}

// LeaderChangesByPhase is LeaderChanges split by the phase of w in which
// each change was first seen.
func (t Timeline) LeaderChangesByPhase(w Windows) map[Phase]int {
	out := map[Phase]int{}
	var prev etcd.MemberID
	for _, r := range t.Rounds() {
		leader, _, ok := RoundLeader(r)
		if !ok {
			continue
		}
		if prev != 0 && leader != prev {
			out[w.Of(r[0].At)]++
		}
		prev = leader
	}
	return out
}

// TimeWithoutLeaderByPhase is TimeWithoutLeader split by the phases of w:
// each leaderless span after the first leader is cut at the phases'
// bounds. When no leader was ever reported, every phase counts whole, up
// to End.
func (t Timeline) TimeWithoutLeaderByPhase(w Windows) map[Phase]Seconds {
	out := map[Phase]Seconds{}
	add := func(from, to time.Duration) {
		bounds := []time.Duration{0, w.ObservationStart, w.ObservationEnd, max(t.End, w.End, w.ObservationEnd)}
		for i, p := range Phases {
			lo, hi := max(from, bounds[i]), min(to, bounds[i+1])
			if i == len(Phases)-1 {
				hi = to
			}
			if hi > lo {
				out[p] += Seconds(hi - lo)
			}
		}
	}
	first, elected := t.TimeToFirstLeader()
	if !elected {
		add(0, t.End)
		return out
	}
	rounds := t.Rounds()
	for i, r := range rounds {
		if _, _, ok := RoundLeader(r); ok || r[0].At < first {
			continue
		}
		next := t.End
		if i+1 < len(rounds) {
			next = rounds[i+1][0].At
		}
		add(r[0].At, next)
	}
	return out
}
