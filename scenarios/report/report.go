package report

import (
	"math"
	"slices"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// Report is one run of a scenario: what ran where, and one Arm per
// configuration compared side by side. report.json is this type,
// marshalled as it is; Headline and Control are derived (Judge fills them,
// and the arms' Verdicts) and are not read back.
type Report struct {
	// Scenario is the scenario's name, e.g. "slow-disk".
	Scenario string `json:"scenario"`
	// Started is when the run began.
	Started time.Time `json:"started"`
	// Host describes the machine the lab ran on (hostname, CPU, accel).
	Host string `json:"host"`
	// EtcdVersion is the version of the etcd the members ran.
	EtcdVersion string `json:"etcd_version"`
	// Duration is how long each arm was observed under the workload.
	Duration measure.Seconds `json:"duration_s"`
	// Elapsed is the run's wall time when the report was written: every
	// arm so far, not the lab's restore afterwards; 0 when not recorded.
	Elapsed measure.Seconds `json:"elapsed_s,omitempty"`
	// Headline is Headline(r), derived.
	Headline []string `json:"headline"`
	// Control is Control(r), derived.
	Control ControlCheck `json:"control"`
	// Missing are the arms that were asked for and have no results: an arm
	// that failed (with its cause), or that did not run because the run was
	// interrupted. A report with missing arms is partial.
	Missing []Missing `json:"missing"`
	Arms    []Arm     `json:"arms"`
	// RestoreWarning, when set, says that the lab was not back to a healthy
	// cluster when the run ended, and how to finish that. The report is
	// complete without it, so it is shown, not written.
	RestoreWarning string `json:"-"`
}

// The result model is measure's: one type per arm that every format
// renders. The names below are the report's words for it.
type (
	// Arm is one configuration of the scenario and everything measured
	// while it ran.
	Arm = measure.Arm
	// Sample is one member's answer to a status round.
	Sample = measure.TermSample
	// CheckPerf is the outcome of check perf at the end of an arm.
	CheckPerf = measure.CheckPerf
	// CPU is the CPU figures of an arm's observation.
	CPU = measure.CPU
	// Phases are the windows of an arm.
	Phases = measure.PhaseBounds
	// PhaseCounts are counts per phase.
	PhaseCounts = measure.PhaseCounts
	// Bucket is one cumulative bucket of the WAL fsync histogram.
	Bucket = measure.FsyncBucket
	// Rule is one rule and what an arm measured against it.
	Rule = measure.Rule
)

// Missing is an arm of the run that has no results, and why.
type Missing struct {
	Name string `json:"name"`
	// Reason says why the arm has no results: "failed: " and the cause,
	// or "not run: " and why.
	Reason string `json:"reason"`
}

// Partial reports whether some arms asked for have no results.
func (r Report) Partial() bool { return len(r.Missing) > 0 }

// Never is TimeToFirstLeader of an arm whose cluster never elected a leader.
const Never = measure.None

// Judge returns r with its derived parts filled: the headline, the
// control's check, and each arm's verdicts. Every format renders a judged
// report, so what report.json says is what report.md says.
func Judge(r Report) Report {
	r.Arms = slices.Clone(r.Arms)
	control := controlArm(r)
	for i, a := range r.Arms {
		v := measure.Verdicts{Outcome: Outcome(a), Stable: Stable(a), Summary: Verdict(a)}
		v.Leadership, v.LeadershipRule = Leadership(a, control)
		v.DiskFitness, v.DiskRules = DiskFitness(a)
		if v.DiskRules == nil {
			v.DiskRules = []Rule{}
		}
		r.Arms[i].Verdicts = v
		if r.Arms[i].Samples == nil {
			r.Arms[i].Samples = []Sample{}
		}
	}
	r.Headline = Headline(r)
	r.Control = Control(r)
	r.Control.Verdict = r.Control.Line()
	if r.Missing == nil {
		r.Missing = []Missing{}
	}
	if r.Arms == nil {
		r.Arms = []Arm{}
	}
	return r
}

// members returns the members named in the arm's samples, sorted.
func armMembers(a Arm) []string {
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
func (r Report) span() measure.Seconds {
	end := r.Duration
	for _, a := range r.Arms {
		for _, s := range a.Samples {
			end = max(end, s.At)
		}
		if a.Elected() {
			end = max(end, a.TimeToFirstLeader)
		}
		end = max(end, a.Phases.End)
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
