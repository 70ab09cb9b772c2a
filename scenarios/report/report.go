package report

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Report is one run of a scenario: what ran where, and one Arm per
// configuration compared side by side.
type Report struct {
	// Scenario is the scenario's name, e.g. "slow-disk".
	Scenario string
	// Started is when the run began.
	Started time.Time
	// Host describes the machine the lab ran on (hostname, CPU, accel).
	Host string
	// EtcdVersion is the version of the etcd the members ran.
	EtcdVersion string
	// Duration is how long each arm was observed under the workload.
	Duration time.Duration
	Arms     []Arm
	// Missing are the arms that were asked for and have no results: an arm
	// that failed (with its cause), or that did not run because the run was
	// interrupted. A report with missing arms is partial.
	Missing []Missing
	// RestoreWarning, when set, says that the lab was not back to a healthy
	// cluster when the run ended, and how to finish that. The report is
	// complete without it, so it is shown, not written.
	RestoreWarning string
}

// Arm is one configuration of the scenario and everything measured while it
// ran. Times in Samples and TimeToFirstLeader are relative to the moment the
// arm started its members.
type Arm struct {
	Name        string
	Description string
	// Profile is the data disks' profile: "ssd", "hdd" or "real HDD".
	Profile string
	// EtcdVersion is the etcd the arm's members ran, when the arm chose
	// one ("" for the lab's own, Report.EtcdVersion).
	EtcdVersion string
	// PreVoteOff is true when the arm turned etcd's pre-vote off.
	PreVoteOff bool
	// Heartbeat and Election are the raft timeouts the members ran with.
	Heartbeat, Election time.Duration
	// TimeoutRule says how Heartbeat and Election were chosen, when they were
	// derived rather than given, e.g.
	// "election = 5 × fsync p99, heartbeat = election / 10".
	TimeoutRule string
	// Expect is the outcome the arm is expected to have: OutcomeStable,
	// OutcomeUnstable, or "" for no expectation. WriteJUnit fails an arm
	// whose Outcome differs.
	Expect string

	// FsyncP50, FsyncP99 and FsyncMax are the fdatasync probe's latencies
	// on the data disk before the arm started.
	FsyncP50, FsyncP99, FsyncMax time.Duration
	// WALFsyncMean is the WAL fsync histogram's exact mean (sum / count),
	// and WALFsyncP50Le and WALFsyncP99Le the upper bounds, in seconds, of
	// the buckets its quantiles fall in (math.Inf(1) above the largest):
	// the histogram says "≤ bound", never a value between bounds.
	WALFsyncMean                 time.Duration
	WALFsyncP50Le, WALFsyncP99Le float64
	// FsyncBuckets is the etcd_disk_wal_fsync_duration_seconds histogram's
	// increase over the arm, summed over the members, with Prometheus
	// semantics: cumulative counts in increasing UpperBound order, the last
	// bucket usually +Inf.
	FsyncBuckets []Bucket

	// Phases are the bounds of the arm's phases (bootstrap, observation,
	// check perf).
	Phases Phases
	// LeaderChanges counts the changes of leader after the first, as the
	// samples saw them (the bootstrap's election is no change).
	LeaderChanges int
	// Elections is the number of "starting a new election" log lines,
	// summed over the members and the phases (ElectionsByPhase.Total()).
	Elections int
	// ElectionsByPhase, PreVotes and Votes count, per phase and summed over
	// the members, the "starting a new election" lines, the pre-vote
	// campaigns ("became pre-candidate") and the vote campaigns ("became
	// candidate").
	ElectionsByPhase, PreVotes, Votes PhaseCounts
	// MaxTerm is the highest raft term any member reported.
	MaxTerm uint64
	// TimeToFirstLeader is when a member first reported a leader, or Never.
	TimeToFirstLeader time.Duration
	// TimeWithoutLeader is how long the cluster had no leader after its first
	// one was elected; the whole observation when none ever was.
	TimeWithoutLeader time.Duration
	// HeartbeatFailures is etcd_server_heartbeat_send_failures_total's
	// increase, summed over the members.
	HeartbeatFailures int
	// SlowFsyncLines counts the slow-fsync log lines over the members and
	// the phases (3.4's "sync duration of", 3.5+'s "slow fdatasync");
	// SlowFsyncByPhase per phase.
	SlowFsyncLines   int
	SlowFsyncByPhase PhaseCounts

	// PutCount, PutErrors and PutP99 describe the steady client workload.
	PutCount, PutErrors int
	PutP99              time.Duration
	CheckPerf           CheckPerf

	// CPU is what the guests' and the host's CPUs did during the
	// observation.
	CPU CPU

	// Samples are every member's raft term and leader over time, as the
	// members' Status answered (about one per member per second).
	Samples []Sample

	// Verdict, when set, replaces Verdict(a) in everything rendered.
	Verdict string
	// Evidence is the directory holding the arm's evidence, relative to the
	// report's directory.
	Evidence string
}

// Missing is an arm of the run that has no results, and why.
type Missing struct {
	Name string
	// Reason says why the arm has no results: "failed: " and the cause,
	// or "not run: " and why.
	Reason string
}

// Partial reports whether some arms asked for have no results.
func (r Report) Partial() bool { return len(r.Missing) > 0 }

// CPU is the CPU figures of an arm's observation: Steal is the largest
// share of a guest's CPU time stolen by the host (/proc/stat), GuestLoad
// the largest guest 1-minute load average, HostLoad the host's, on
// HostCPUs CPUs. Measured is false when they could not be read.
type CPU struct {
	Measured            bool
	Steal               float64
	GuestLoad, HostLoad float64
	HostCPUs            int
}

// Phases are the bounds of an arm's phases, from the arm's start: the
// bootstrap runs to ObservationStart (the first leader, or the end of the
// wait for one), the observation to ObservationEnd, check perf to End.
type Phases struct {
	ObservationStart, ObservationEnd, End time.Duration
}

// PhaseCounts are counts of journal lines in each phase of an arm.
type PhaseCounts struct {
	Bootstrap, Observation, CheckPerf int
}

// Total is the count over every phase.
func (c PhaseCounts) Total() int { return c.Bootstrap + c.Observation + c.CheckPerf }

// String is "bootstrap / observation / check perf".
func (c PhaseCounts) String() string {
	return fmt.Sprintf("%d / %d / %d", c.Bootstrap, c.Observation, c.CheckPerf)
}

// Never is TimeToFirstLeader of an arm whose cluster never elected a leader.
const Never time.Duration = -1

// Elected reports whether the arm's cluster ever had a leader.
func (a Arm) Elected() bool { return a.TimeToFirstLeader >= 0 }

// Bucket is one bucket of a Prometheus histogram: Count observations took at
// most UpperBound seconds (math.Inf(1) for the last bucket).
type Bucket struct {
	UpperBound float64
	Count      float64
}

// CheckPerf is the outcome of `lab check perf` at the end of the arm.
type CheckPerf struct {
	// Ran is false when check perf did not run (or could not start).
	Ran, Pass bool
	// Throughput is in writes per second.
	Throughput      float64
	Slowest, Stddev time.Duration
}

// Sample is one member's answer to Status at At after the arm started. An
// empty Leader means the member knew of no leader.
type Sample struct {
	At     time.Duration
	Member string
	Term   uint64
	Leader string
}

// verdict is the arm's verdict as rendered: Arm.Verdict when set.
func (a Arm) verdict() string {
	if a.Verdict != "" {
		return a.Verdict
	}
	return Verdict(a)
}

// members returns the members named in the samples, sorted.
func (a Arm) members() []string {
	seen := map[string]bool{}
	var names []string
	for _, s := range a.Samples {
		if !seen[s.Member] {
			seen[s.Member] = true
			names = append(names, s.Member)
		}
	}
	slices.Sort(names)
	return names
}

// span returns the time the report's charts cover: the observation, or the
// last sample when that is later (samples include the bootstrap).
func (r Report) span() time.Duration {
	end := r.Duration
	for _, a := range r.Arms {
		for _, s := range a.Samples {
			end = max(end, s.At)
		}
		if a.Elected() {
			end = max(end, a.TimeToFirstLeader)
		}
	}
	return end
}

// perBucket returns the histogram's non-cumulative counts: the observations
// in (previous bound, UpperBound].
func perBucket(buckets []Bucket) []float64 {
	out := make([]float64, len(buckets))
	prev := 0.0
	for i, b := range buckets {
		out[i] = math.Max(b.Count-prev, 0)
		prev = math.Max(prev, b.Count)
	}
	return out
}
