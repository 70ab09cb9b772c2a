package measure

import (
	"cmp"
	"fmt"
	"math"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
)

// Arm is the result of one arm of an experiment: its configuration, every
// figure measured, and the verdicts the report's rules give. It is the one
// result model: report.md, report.json (this type, marshalled as it is),
// the JUnit file and the charts all render it. Durations are Seconds,
// times are from the arm's start, and a figure that does not exist (no
// leader, no successful put) is None, 0 for a Term, written null.
type Arm struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Profile is the data disks' profile: "ssd", "hdd" or "real HDD".
	Profile string `json:"profile"`
	// EtcdVersion is the etcd the arm's members ran, when the arm chose
	// one ("" for the lab's own).
	EtcdVersion string `json:"etcd_version,omitempty"`
	// PreVoteOff is true when the arm turned etcd's pre-vote off.
	PreVoteOff bool `json:"pre_vote_off,omitempty"`
	// Heartbeat and Election are the raft timeouts the members ran with.
	Heartbeat Seconds `json:"heartbeat_s"`
	Election  Seconds `json:"election_s"`
	// TimeoutRule says how Heartbeat and Election were chosen, when they
	// were derived rather than given.
	TimeoutRule string `json:"timeout_rule,omitempty"`
	// Expect is the outcome the arm is expected to have ("stable",
	// "unstable"), or "" for none.
	Expect string `json:"expect,omitempty"`

	// Verdicts are the report's rules applied to the figures below; the
	// report fills them when it renders (report.Judge), and they are not
	// read back as measurements.
	Verdicts Verdicts `json:"verdicts"`

	// FsyncP50, FsyncP99 and FsyncMax are the fdatasync probe's measured
	// latencies on the slowest node's data disk before the arm started;
	// None when no probe ran.
	FsyncP50 Seconds `json:"probe_fsync_p50_s"`
	FsyncP99 Seconds `json:"probe_fsync_p99_s"`
	FsyncMax Seconds `json:"probe_fsync_max_s"`
	// ProbeFrom names the earlier arm whose probe these figures are, when
	// the disk's profile had not changed since that identical probe and
	// was not probed again; "" when the arm probed its disks itself.
	ProbeFrom string `json:"probe_from,omitempty"`

	// Phases are the windows of the arm: bootstrap, observation, check
	// perf.
	Phases PhaseBounds `json:"phases"`
	// WallTimes are how long each of the arm's steps took on the host's
	// clock: where a run's time goes.
	WallTimes WallTimes `json:"wall_times"`

	// WALFsyncMean is the WAL fsync histogram's exact mean (sum / count)
	// over bootstrap + observation, None without fsyncs; WALFsyncP50Le and
	// WALFsyncP99Le are the upper bounds of the buckets its quantiles fall
	// in: the histogram says "≤ bound", never a value between bounds.
	WALFsyncMean  Seconds `json:"wal_fsync_mean_s"`
	WALFsyncP50Le Bound   `json:"wal_fsync_p50_le"`
	WALFsyncP99Le Bound   `json:"wal_fsync_p99_le"`
	// FsyncBuckets is etcd_disk_wal_fsync_duration_seconds' increase over
	// bootstrap + observation, summed over the members: cumulative counts
	// in increasing bound order, the last bucket +Inf.
	FsyncBuckets []FsyncBucket `json:"wal_fsync_buckets"`
	// HeartbeatFailures is etcd_server_heartbeat_send_failures_total's
	// increase over bootstrap + observation, summed over the members.
	HeartbeatFailures int `json:"heartbeat_failures"`
	// CheckPerfMetrics are the same metrics over the check perf phase.
	CheckPerfMetrics MetricsWindow `json:"check_perf_metrics"`

	// TimeToFirstLeader is when a status round first named a leader;
	// None when none ever did.
	TimeToFirstLeader Seconds `json:"time_to_first_leader_s"`
	// LeaderChanges counts the changes of leader after the first, over
	// every phase sampled; LeaderChangesByPhase per phase.
	LeaderChanges        int         `json:"leader_changes"`
	LeaderChangesByPhase PhaseCounts `json:"leader_changes_by_phase"`
	// TimeWithoutLeader is how long the cluster had no leader after its
	// first; the whole arm when it never had one. ByPhase splits it.
	TimeWithoutLeader        Seconds       `json:"time_without_leader_s"`
	TimeWithoutLeaderByPhase PhaseDuration `json:"time_without_leader_by_phase"`
	// MaxTerm is the highest raft term a member reported in a status
	// round; unknown (null) when none answered. JournalMaxTerm is the
	// highest term the members' election lines name, which a cluster that
	// never served clients still logs.
	MaxTerm        Term `json:"max_term"`
	JournalMaxTerm Term `json:"journal_max_term"`

	// Elections counts "starting a new election" lines over every phase
	// and member; ElectionsByPhase, PreVotes and Votes per phase (the
	// campaigns: "became pre-candidate", "became candidate").
	Elections        int         `json:"elections"`
	ElectionsByPhase PhaseCounts `json:"elections_by_phase"`
	PreVotes         PhaseCounts `json:"pre_vote_campaigns"`
	Votes            PhaseCounts `json:"vote_campaigns"`
	// SlowFsyncLines counts the slow-fsync log lines (3.4's "sync
	// duration of", 3.5+'s "slow fdatasync"); SlowFsyncByPhase per phase.
	SlowFsyncLines   int         `json:"slow_fsync_lines"`
	SlowFsyncByPhase PhaseCounts `json:"slow_fsync_by_phase"`

	// PutCount and PutErrors count the observation's steady puts; PutP99
	// is their latency's 99th percentile (failed puts at the time they
	// took to fail), None when no put succeeded: a p99 of puts that all
	// failed at once measures the client, not etcd.
	PutCount  int     `json:"put_count"`
	PutErrors int     `json:"put_errors"`
	PutP99    Seconds `json:"put_p99_s"`

	CheckPerf CheckPerf `json:"check_perf"`
	// CPU is what the guests' and the host's CPUs did during the
	// observation.
	CPU CPU `json:"cpu"`

	// Samples are every member's raft term and leader over time, as the
	// status rounds saw them (about one per member per second), through
	// every phase.
	Samples []TermSample `json:"samples"`
	// Evidence is the directory holding the arm's evidence, relative to
	// the report's directory.
	Evidence string `json:"evidence,omitempty"`
}

// Elected reports whether the arm's cluster ever had a leader.
func (a Arm) Elected() bool { return a.TimeToFirstLeader.Valid() }

// Verdicts are the report's judgements of an arm, each beside the rule
// that gave it.
type Verdicts struct {
	// Outcome is "stable" or "unstable"; Stable the same as a bool.
	Outcome string `json:"outcome"`
	Stable  bool   `json:"stable"`
	// Summary says in one line what happened to the arm's cluster.
	Summary        string `json:"summary"`
	Leadership     string `json:"leadership"`
	LeadershipRule string `json:"leadership_rule"`
	DiskFitness    string `json:"disk_fitness"`
	DiskRules      []Rule `json:"disk_rules"`
}

// Rule is one rule and what the arm measured against it.
type Rule struct {
	// Text states the rule with the measured figure, e.g.
	// "probe fsync p99 7.9 ms ≤ 10 ms (etcd's guidance)".
	Text string `json:"rule"`
	OK   bool   `json:"ok"`
}

// PhaseBounds are the windows of an arm, from its start: the bootstrap runs to
// ObservationStart (the first leader, or the end of the wait for one), the
// observation to ObservationEnd, check perf to End.
type PhaseBounds struct {
	ObservationStart Seconds `json:"observation_start_s"`
	ObservationEnd   Seconds `json:"observation_end_s"`
	End              Seconds `json:"end_s"`
}

// Windows are the phases as Windows.
func (p PhaseBounds) Windows() Windows {
	return Windows{ObservationStart: p.ObservationStart.D(), ObservationEnd: p.ObservationEnd.D(), End: p.End.D()}
}

// WallTimes are the host's wall-clock time of each step of an arm, in the
// order they run. A step the arm did not take (the etcd install of an arm
// on the lab's own etcd) is None, and so is every step of a result from
// before they were recorded.
type WallTimes struct {
	// Reset is stopping and wiping etcd with the arm's timeouts, before
	// and after the probe, and reading the guests' clocks.
	Reset Seconds `json:"reset_s"`
	// EtcdInstall is copying and checking the arm's own etcd binaries.
	EtcdInstall Seconds `json:"etcd_install_s"`
	// Profile is applying the disk profile on every node.
	Profile Seconds `json:"profile_s"`
	// Probe is the fdatasync probe on every data disk (in parallel).
	Probe Seconds `json:"probe_s"`
	// Bootstrap is from starting the members to the first leader (or the
	// end of the wait for one): the bootstrap phase.
	Bootstrap Seconds `json:"bootstrap_s"`
	// Observation is the steady workload: the observation phase.
	Observation Seconds `json:"observation_s"`
	// CheckPerf is check perf and the metrics reads around it: the check
	// perf phase.
	CheckPerf Seconds `json:"check_perf_s"`
	// Collect is reading the journals and keeping the evidence.
	Collect Seconds `json:"collect_s"`
	// Total is the whole arm, from its first step to its last.
	Total Seconds `json:"total_s"`
}

// NoWallTimes are the WallTimes of an arm that recorded none.
var NoWallTimes = WallTimes{None, None, None, None, None, None, None, None, None}

// WallStep is one step of WallTimes with its name, for rendering.
type WallStep struct {
	Name string
	Time Seconds
}

// Steps are the steps in the order they run, Total excluded.
func (w WallTimes) Steps() []WallStep {
	return []WallStep{{"reset", w.Reset}, {"etcd install", w.EtcdInstall}, {"profile", w.Profile},
		{"probe", w.Probe}, {"bootstrap", w.Bootstrap}, {"observation", w.Observation},
		{"check perf", w.CheckPerf}, {"collect", w.Collect}}
}

// Recorded reports whether the arm was timed (a report from before wall
// times were recorded reads back a zero Total).
func (w WallTimes) Recorded() bool { return w.Total > 0 }

// Add adds d to the step at *step, which may be None (not yet taken).
func Add(step *Seconds, d time.Duration) { *step = Seconds(step.D() + d) }

// PhaseCounts are counts of something in each phase of an arm.
type PhaseCounts struct {
	Bootstrap   int `json:"bootstrap"`
	Observation int `json:"observation"`
	CheckPerf   int `json:"check_perf"`
}

// Total is the count over every phase.
func (c PhaseCounts) Total() int { return c.Bootstrap + c.Observation + c.CheckPerf }

// PhaseDuration is a time in each phase of an arm.
type PhaseDuration struct {
	Bootstrap   Seconds `json:"bootstrap_s"`
	Observation Seconds `json:"observation_s"`
	CheckPerf   Seconds `json:"check_perf_s"`
}

// MetricsWindow is the members' metrics over one window, summed.
type MetricsWindow struct {
	// Measured is false when the window's metrics could not be read.
	Measured          bool    `json:"measured"`
	HeartbeatFailures int     `json:"heartbeat_failures"`
	WALFsyncCount     uint64  `json:"wal_fsync_count"`
	WALFsyncMean      Seconds `json:"wal_fsync_mean_s"`
	WALFsyncP99Le     Bound   `json:"wal_fsync_p99_le"`
}

// FsyncBucket is one cumulative bucket of a histogram as the report keeps
// it: Count observations took at most UpperBound seconds (+Inf for the
// last).
type FsyncBucket struct {
	UpperBound Bound   `json:"le"`
	Count      float64 `json:"count"`
}

// CheckPerf is the outcome of `lab check perf` at the end of the arm.
type CheckPerf struct {
	// Ran is false when check perf did not run (or could not start).
	Ran  bool `json:"ran"`
	Pass bool `json:"pass"`
	// Throughput is in writes per second.
	Throughput float64 `json:"throughput"`
	Slowest    Seconds `json:"slowest_s"`
	Stddev     Seconds `json:"stddev_s"`
}

// CPU is the CPU figures of an arm's observation: Steal is the largest
// share of a guest's CPU time stolen by the host (/proc/stat), GuestLoad
// the largest guest 1-minute load average, HostLoad the host's, on
// HostCPUs CPUs. Measured is false when they could not be read.
type CPU struct {
	Measured  bool    `json:"measured"`
	Steal     float64 `json:"guest_steal"`
	GuestLoad float64 `json:"guest_load1"`
	HostLoad  float64 `json:"host_load1"`
	HostCPUs  int     `json:"host_cpus"`
}

// TermSample is one member's answer to a status round at At after the
// arm started. An empty Leader means the member knew of no leader.
type TermSample struct {
	At     Seconds `json:"at_s"`
	Member string  `json:"member"`
	Term   uint64  `json:"term"`
	Leader string  `json:"leader"`
}

// Observation is everything measured in one arm, as the measurements
// produce it; Result turns it into the arm's figures.
type Observation struct {
	// Start is the arm's start, from which every time counts.
	Start time.Time
	// Windows are the phases' bounds; the journal, the samples and the
	// metrics are counted per phase.
	Windows Windows
	// Timeline is the Sampler's record of terms and leaders, through
	// every phase.
	Timeline Timeline
	// Metrics are each member's /metrics at the start (zero: the members
	// start fresh with the arm), at the end of the observation (After)
	// and at the end of check perf (End).
	Metrics []MemberWindow
	// Events are the classified journal lines of every member, their
	// times on the arm's timeline.
	Events []Event
	// Requests are the observation's puts.
	Requests Requests
}

// MemberWindow is one member's /metrics at the ends of the windows. A
// zero Snapshot is one that could not be read (or, for Before, a member
// that started with the arm).
type MemberWindow struct {
	Member             string
	Before, After, End Snapshot
}

// Result fills every measured figure of a, whose configuration, probe,
// check perf and CPU figures the caller has set, from the observation.
// Each figure comes from the one function here that defines it.
func (o Observation) Result(a Arm) Arm {
	tl, w := o.Timeline, o.Windows
	a.Phases = PhaseBounds{ObservationStart: Seconds(w.ObservationStart), ObservationEnd: Seconds(w.ObservationEnd), End: Seconds(w.End)}
	a.TimeToFirstLeader, a.TimeWithoutLeader = None, Seconds(tl.TimeWithoutLeader())
	if d, ok := tl.TimeToFirstLeader(); ok {
		a.TimeToFirstLeader = Seconds(d)
	} else {
		// Never elected: the whole arm went without one, also before the
		// sampler could ask anybody.
		a.TimeWithoutLeader = max(a.TimeWithoutLeader, Seconds(tl.End))
	}
	a.LeaderChanges, a.MaxTerm = tl.LeaderChanges(), Term(tl.MaxTerm())
	byPhase := tl.LeaderChangesByPhase(w)
	a.LeaderChangesByPhase = PhaseCounts{byPhase[PhaseBootstrap], byPhase[PhaseObservation], byPhase[PhaseCheckPerf]}
	without := tl.TimeWithoutLeaderByPhase(w)
	a.TimeWithoutLeaderByPhase = PhaseDuration{without[PhaseBootstrap], without[PhaseObservation], without[PhaseCheckPerf]}
	a.Samples = termSamples(tl)

	var run, perf Histogram
	var runFailures, perfFailures uint64
	perfMeasured := len(o.Metrics) > 0
	for _, m := range o.Metrics {
		// A member whose metrics could not be read (one that never served
		// clients) adds nothing; check perf's window needs every member's
		// both ends.
		if !m.After.read() {
			perfMeasured = false
			continue
		}
		d := m.After.Delta(m.Before)
		runFailures += d.HeartbeatSendFailures
		run, _ = run.Add(d.WALFsync) // all members export the same buckets
		if !m.End.read() {
			perfMeasured = false
			continue
		}
		p := m.End.Delta(m.After)
		perfFailures += p.HeartbeatSendFailures
		perf, _ = perf.Add(p.WALFsync)
	}
	a.HeartbeatFailures = int(runFailures)
	a.WALFsyncMean, a.WALFsyncP50Le, a.WALFsyncP99Le = meanOf(run), Bound(run.QuantileBound(0.5)), Bound(run.QuantileBound(0.99))
	a.FsyncBuckets = nil
	for _, b := range run.Buckets {
		a.FsyncBuckets = append(a.FsyncBuckets, FsyncBucket{UpperBound: Bound(b.UpperBound), Count: float64(b.Count)})
	}
	if len(run.Buckets) > 0 {
		a.FsyncBuckets = append(a.FsyncBuckets, FsyncBucket{UpperBound: Bound(math.Inf(1)), Count: float64(run.Count)})
	}
	a.CheckPerfMetrics = MetricsWindow{Measured: perfMeasured, WALFsyncMean: None}
	if perfMeasured {
		a.CheckPerfMetrics = MetricsWindow{Measured: true, HeartbeatFailures: int(perfFailures), WALFsyncCount: perf.Count,
			WALFsyncMean: meanOf(perf), WALFsyncP99Le: Bound(perf.QuantileBound(0.99))}
	}

	counts := CountByPhase(o.Events, o.Start, w)
	perPhase := func(k Kind) PhaseCounts {
		return PhaseCounts{counts[PhaseBootstrap][k], counts[PhaseObservation][k], counts[PhaseCheckPerf][k]}
	}
	a.ElectionsByPhase = perPhase(ElectionStart)
	a.Elections = a.ElectionsByPhase.Total()
	a.PreVotes, a.Votes = perPhase(PreVoteCampaign), perPhase(VoteCampaign)
	a.SlowFsyncByPhase = perPhase(SlowFsync)
	a.SlowFsyncLines = a.SlowFsyncByPhase.Total()
	a.JournalMaxTerm = 0
	for _, ev := range o.Events {
		if ev.Kind == ElectionStart || ev.Kind == Elected {
			a.JournalMaxTerm = max(a.JournalMaxTerm, Term(ev.Term))
		}
	}

	st := o.Requests.Stats()
	a.PutCount, a.PutErrors, a.PutP99 = st.Count, st.Errors, None
	if st.Count > st.Errors {
		a.PutP99 = Seconds(st.P99)
	}
	return a
}

// meanOf is h's exact mean, None when it has no observation.
func meanOf(h Histogram) Seconds {
	if h.Count == 0 {
		return None
	}
	return Seconds(math.Round(h.Mean() * float64(time.Second)))
}

// termSamples are the timeline's answers, leaders named by member where a
// member's ID is known.
func termSamples(tl Timeline) []TermSample {
	ids := map[etcd.MemberID]string{}
	for _, s := range tl.Samples {
		if s.Err == nil && s.ID != 0 {
			ids[s.ID] = s.Member
		}
	}
	out := []TermSample{}
	for _, s := range tl.Samples {
		if s.Err != nil || s.Member == "" {
			continue
		}
		sample := TermSample{At: Seconds(s.At), Member: s.Member, Term: s.Term}
		if s.Leader != 0 {
			sample.Leader = cmp.Or(ids[s.Leader], s.Leader.String())
		}
		out = append(out, sample)
	}
	return out
}

// String is "bootstrap / observation / check perf".
func (c PhaseCounts) String() string {
	return fmt.Sprintf("%d / %d / %d", c.Bootstrap, c.Observation, c.CheckPerf)
}

// read reports whether the snapshot was read from a member: every etcd
// exports the WAL fsync histogram's buckets.
func (s Snapshot) read() bool { return len(s.WALFsync.Buckets) > 0 }
