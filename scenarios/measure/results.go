package measure

import (
	"maps"
	"math"
	"strconv"
	"time"
)

// Observation is everything measured in one arm, as the measurements
// produce it. Results turns it into the form report.json keeps.
type Observation struct {
	Arm string
	// Start is the arm's start, from which every time counts; Window is
	// how long it was observed (to the end of the observation phase).
	Start  time.Time
	Window time.Duration
	// Windows are the phases' bounds; the journal is counted per phase.
	Windows Windows
	// Timeline is the Sampler's record of terms and leaders.
	Timeline Timeline
	// Metrics are each member's /metrics at the start and at the end of
	// the window. The members start fresh with the arm, so a zero Before
	// makes the window the bootstrap and the observation together.
	Metrics []MemberWindow
	// Events are the classified journal lines of every member.
	Events []Event
	// Workload is the put workload's configuration and Requests what it
	// did.
	Workload Workload
	Requests Requests
}

// MemberWindow is one member's /metrics at both ends of the window.
type MemberWindow struct {
	Member        string
	Before, After Snapshot
}

// Results is an arm's measurements for people and programs to read:
// lowerCamelCase names, every duration in seconds, every time in seconds
// from the arm's start.
type Results struct {
	Arm           string          `json:"arm"`
	Start         time.Time       `json:"start"`
	WindowSeconds float64         `json:"windowSeconds"`
	Phases        PhasesResult    `json:"phases"`
	Leadership    Leadership      `json:"leadership"`
	Cluster       ClusterMetrics  `json:"cluster"`
	Members       []MemberMetrics `json:"members"`
	Log           LogSummary      `json:"log"`
	Workload      WorkloadSummary `json:"workload"`
}

// PhasesResult are the phases' bounds in seconds from the arm's start.
type PhasesResult struct {
	ObservationStartSeconds float64 `json:"observationStartSeconds"`
	ObservationEndSeconds   float64 `json:"observationEndSeconds"`
	EndSeconds              float64 `json:"endSeconds"`
}

// Leadership is what the members' status said over the window.
type Leadership struct {
	// TimeToFirstLeaderSeconds is null when no member ever knew a leader.
	TimeToFirstLeaderSeconds *float64 `json:"timeToFirstLeaderSeconds"`
	// LeaderChanges is Timeline.LeaderChanges: changes of leader after
	// the first.
	LeaderChanges int `json:"leaderChanges"`
	// TimeWithoutLeaderSeconds is Timeline.TimeWithoutLeader: after the
	// first leader, the bootstrap excluded.
	TimeWithoutLeaderSeconds float64        `json:"timeWithoutLeaderSeconds"`
	MaxTerm                  uint64         `json:"maxTerm"`
	Samples                  []SampleResult `json:"samples"`
}

// SampleResult is a Sample. IDs are etcd's hex member IDs; Leader is empty
// when the member knew none.
type SampleResult struct {
	AtSeconds float64 `json:"atSeconds"`
	Member    string  `json:"member"`
	ID        string  `json:"id,omitempty"`
	Term      uint64  `json:"term,omitempty"`
	Leader    string  `json:"leader,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// ClusterMetrics are the members' metric windows taken together.
type ClusterMetrics struct {
	// LeaderChangesSeen is the most any member's
	// etcd_server_leader_changes_seen_total rose: etcd's counter, which
	// counts the first election too. The report's leader changes are
	// Leadership.LeaderChanges.
	LeaderChangesSeen uint64 `json:"leaderChangesSeenTotal"`
	// HeartbeatSendFailures and ProposalsFailed are summed over members
	// (only leaders send heartbeats).
	HeartbeatSendFailures uint64 `json:"heartbeatSendFailures"`
	ProposalsFailed       uint64 `json:"proposalsFailed"`
	// ProposalsCommitted is the most any member committed.
	ProposalsCommitted uint64 `json:"proposalsCommitted"`
	// WALFsync and BackendCommit hold every member's observations.
	WALFsync      HistogramSummary `json:"walFsync"`
	BackendCommit HistogramSummary `json:"backendCommit"`
}

// MemberMetrics is one member's Snapshot delta over the window.
type MemberMetrics struct {
	Member                string                      `json:"member"`
	HasLeader             bool                        `json:"hasLeader"`
	IsLeader              bool                        `json:"isLeader"`
	LeaderChangesSeen     uint64                      `json:"leaderChangesSeenTotal"`
	HeartbeatSendFailures uint64                      `json:"heartbeatSendFailures"`
	ProposalsFailed       uint64                      `json:"proposalsFailed"`
	ProposalsCommitted    uint64                      `json:"proposalsCommitted"`
	WALFsync              HistogramSummary            `json:"walFsync"`
	BackendCommit         HistogramSummary            `json:"backendCommit"`
	PeerRoundTrip         map[string]HistogramSummary `json:"peerRoundTrip,omitempty"`
}

// HistogramSummary is a latency histogram in seconds. MeanSeconds is exact
// (sum / count); P50Le and P99Le are the upper bounds of the buckets the
// quantiles fall in, as Prometheus writes its le label ("2.048", "+Inf"):
// a histogram says no more. Max is the upper bound of the highest bucket
// used; Overflow counts observations above the largest bound, which Max
// and the quantiles cannot see past.
type HistogramSummary struct {
	Count       uint64  `json:"count"`
	MeanSeconds float64 `json:"meanSeconds"`
	P50Le       string  `json:"p50Le"`
	P99Le       string  `json:"p99Le"`
	MaxSeconds  float64 `json:"maxSeconds"`
	Overflow    uint64  `json:"overflow,omitempty"`
	// Buckets are the distribution, bucket by bucket (not cumulative).
	Buckets []BucketCount `json:"buckets,omitempty"`
}

// BucketCount is the number of observations in (From, To]; To is absent for
// the bucket above the largest bound.
type BucketCount struct {
	FromSeconds float64  `json:"fromSeconds"`
	ToSeconds   *float64 `json:"toSeconds,omitempty"`
	Count       uint64   `json:"count"`
}

// LogSummary counts the classified journal lines.
type LogSummary struct {
	// Counts has every Kind, zero or not, over every phase.
	Counts map[Kind]int `json:"counts"`
	// ByPhase has the counts of each phase (CountByPhase).
	ByPhase  PhaseCounts             `json:"byPhase"`
	ByMember map[string]map[Kind]int `json:"byMember,omitempty"`
	Events   []EventResult           `json:"events,omitempty"`
}

// EventResult is an Event without its line, which the journal excerpts
// keep. AtSeconds is 0 for a line that carried no time.
type EventResult struct {
	AtSeconds       float64 `json:"atSeconds"`
	Member          string  `json:"member,omitempty"`
	Kind            Kind    `json:"kind"`
	Term            uint64  `json:"term,omitempty"`
	DurationSeconds float64 `json:"durationSeconds,omitempty"`
	Peer            string  `json:"peer,omitempty"`
}

// WorkloadSummary is the put workload's outcome.
type WorkloadSummary struct {
	RatePerSecond float64 `json:"ratePerSecond"`
	Count         int     `json:"count"`
	Errors        int     `json:"errors"`
	// ErrorMessages counts failures by their innermost error's message.
	ErrorMessages map[string]int `json:"errorMessages,omitempty"`
	// The latencies include failed requests at the time they took to fail.
	P50Seconds float64         `json:"p50Seconds"`
	P99Seconds float64         `json:"p99Seconds"`
	MaxSeconds float64         `json:"maxSeconds"`
	Requests   []RequestResult `json:"requests,omitempty"`
}

// RequestResult is one put.
type RequestResult struct {
	AtSeconds      float64 `json:"atSeconds"`
	LatencySeconds float64 `json:"latencySeconds"`
	Error          string  `json:"error,omitempty"`
}

// Results summarises the observation.
func (o Observation) Results() Results {
	return Results{
		Arm:           o.Arm,
		Start:         o.Start,
		WindowSeconds: o.Window.Seconds(),
		Phases: PhasesResult{ObservationStartSeconds: o.Windows.ObservationStart.Seconds(),
			ObservationEndSeconds: o.Windows.ObservationEnd.Seconds(), EndSeconds: o.Windows.End.Seconds()},
		Leadership: leadership(o.Timeline),
		Cluster:    clusterMetrics(o.Metrics),
		Members:    memberMetrics(o.Metrics),
		Log:        logSummary(o.Start, o.Windows, o.Events),
		Workload:   workloadSummary(o.Workload, o.Requests),
	}
}

func leadership(t Timeline) Leadership {
	l := Leadership{
		LeaderChanges:            t.LeaderChanges(),
		TimeWithoutLeaderSeconds: t.TimeWithoutLeader().Seconds(),
		MaxTerm:                  t.MaxTerm(),
		Samples:                  []SampleResult{},
	}
	if d, ok := t.TimeToFirstLeader(); ok {
		s := d.Seconds()
		l.TimeToFirstLeaderSeconds = &s
	}
	for _, s := range t.Samples {
		r := SampleResult{AtSeconds: s.At.Seconds(), Member: s.Member, Term: s.Term}
		if s.ID != 0 {
			r.ID = s.ID.String()
		}
		if s.Leader != 0 {
			r.Leader = s.Leader.String()
		}
		if s.Err != nil {
			r.Error = s.Err.Error()
		}
		l.Samples = append(l.Samples, r)
	}
	return l
}

func memberMetrics(windows []MemberWindow) []MemberMetrics {
	out := []MemberMetrics{}
	for _, w := range windows {
		d := w.After.Delta(w.Before)
		m := MemberMetrics{
			Member:                w.Member,
			HasLeader:             d.HasLeader,
			IsLeader:              d.IsLeader,
			LeaderChangesSeen:     d.LeaderChanges,
			HeartbeatSendFailures: d.HeartbeatSendFailures,
			ProposalsFailed:       d.ProposalsFailed,
			ProposalsCommitted:    d.ProposalsCommitted,
			WALFsync:              summarize(d.WALFsync, true),
			BackendCommit:         summarize(d.BackendCommit, true),
		}
		if len(d.PeerRoundTrip) > 0 {
			m.PeerRoundTrip = map[string]HistogramSummary{}
			for peer, h := range d.PeerRoundTrip {
				m.PeerRoundTrip[peer] = summarize(h, false)
			}
		}
		out = append(out, m)
	}
	return out
}

func clusterMetrics(windows []MemberWindow) ClusterMetrics {
	var c ClusterMetrics
	var fsync, commit Histogram
	for _, w := range windows {
		d := w.After.Delta(w.Before)
		c.LeaderChangesSeen = max(c.LeaderChangesSeen, d.LeaderChanges)
		c.HeartbeatSendFailures += d.HeartbeatSendFailures
		c.ProposalsFailed += d.ProposalsFailed
		c.ProposalsCommitted = max(c.ProposalsCommitted, d.ProposalsCommitted)
		// etcd's buckets are fixed, so members' histograms always merge.
		fsync, _ = fsync.Add(d.WALFsync)
		commit, _ = commit.Add(d.BackendCommit)
	}
	c.WALFsync = summarize(fsync, true)
	c.BackendCommit = summarize(commit, true)
	return c
}

func summarize(h Histogram, withBuckets bool) HistogramSummary {
	s := HistogramSummary{
		Count:       h.Count,
		MeanSeconds: h.Mean(),
		P50Le:       FormatLe(h.QuantileBound(0.5)),
		P99Le:       FormatLe(h.QuantileBound(0.99)),
		MaxSeconds:  h.Max(),
		Overflow:    h.Overflow(),
	}
	if !withBuckets || len(h.Buckets) == 0 {
		return s
	}
	var from float64
	var below uint64
	for _, b := range h.Buckets {
		to := b.UpperBound
		s.Buckets = append(s.Buckets, BucketCount{FromSeconds: from, ToSeconds: &to, Count: b.Count - below})
		from, below = b.UpperBound, b.Count
	}
	s.Buckets = append(s.Buckets, BucketCount{FromSeconds: from, Count: h.Count - below})
	return s
}

func logSummary(start time.Time, w Windows, events []Event) LogSummary {
	l := LogSummary{Counts: map[Kind]int{}, ByPhase: CountByPhase(events, start, w)}
	for _, k := range Kinds {
		l.Counts[k] = 0
	}
	maps.Copy(l.Counts, CountEvents(events))
	for _, ev := range events {
		if ev.Host != "" {
			if l.ByMember == nil {
				l.ByMember = map[string]map[Kind]int{}
			}
			if l.ByMember[ev.Host] == nil {
				l.ByMember[ev.Host] = map[Kind]int{}
			}
			l.ByMember[ev.Host][ev.Kind]++
		}
		var at float64
		if !ev.Time.IsZero() {
			at = ev.Time.Sub(start).Seconds()
		}
		l.Events = append(l.Events, EventResult{
			AtSeconds:       at,
			Member:          ev.Host,
			Kind:            ev.Kind,
			Term:            ev.Term,
			DurationSeconds: ev.Duration.Seconds(),
			Peer:            ev.Peer,
		})
	}
	return l
}

func workloadSummary(w Workload, r Requests) WorkloadSummary {
	st := r.Stats()
	s := WorkloadSummary{
		RatePerSecond: w.WithDefaults().Rate,
		Count:         st.Count,
		Errors:        st.Errors,
		ErrorMessages: st.ErrorMessages,
		P50Seconds:    st.P50.Seconds(),
		P99Seconds:    st.P99.Seconds(),
		MaxSeconds:    st.Max.Seconds(),
	}
	for _, req := range r {
		rr := RequestResult{AtSeconds: req.At.Seconds(), LatencySeconds: req.Latency.Seconds()}
		if req.Err != nil {
			rr.Error = req.Err.Error()
		}
		s.Requests = append(s.Requests, rr)
	}
	return s
}

// FormatLe writes a histogram bound as Prometheus writes its le label:
// "0.001", "2.048", "+Inf".
func FormatLe(bound float64) string {
	if math.IsInf(bound, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(bound, 'g', -1, 64)
}
