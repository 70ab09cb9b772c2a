package measure

import (
	"time"
)

// Phase is one window of an arm's timeline. Every figure a report shows
// says which windows it covers.
type Phase string

// An arm's phases, in the order they happen.
const (
	// PhaseBootstrap is from the moment the members are started to the start of
	// the observation: the first leader, or the end of the wait for one.
	PhaseBootstrap Phase = "bootstrap"
	// PhaseObservation is the steady write workload.
	PhaseObservation Phase = "observation"
	// PhaseCheckPerf is check perf's 150 writes/s (or its attempt) after the
	// observation.
	PhaseCheckPerf Phase = "check-perf"
)

// Phases lists every Phase in order.
var Phases = []Phase{PhaseBootstrap, PhaseObservation, PhaseCheckPerf}

// Windows are the bounds of an arm's phases, as times from the arm's start.
type Windows struct {
	// ObservationStart is when the workload started: the first leader, or
	// the end of the wait for one.
	ObservationStart time.Duration
	// ObservationEnd is when the workload stopped and check perf began.
	ObservationEnd time.Duration
	// End is when check perf ended: the arm's last measured moment.
	End time.Duration
}

// Of returns the phase at time at from the arm's start. A line logged
// before the start (the journal is read from shortly before it) is the
// bootstrap's; one after End is check perf's, the last phase.
func (w Windows) Of(at time.Duration) Phase {
	switch {
	case at < w.ObservationStart:
		return PhaseBootstrap
	case at < w.ObservationEnd:
		return PhaseObservation
	}
	return PhaseCheckPerf
}

// KindsByPhase counts journal lines of each Kind in each Phase.
type KindsByPhase map[Phase]map[Kind]int

// CountByPhase counts events by phase and kind; start is the arm's start,
// which event times are measured from. An event without a time counts in
// the bootstrap (only the first lines of a journal lack one).
func CountByPhase(events []Event, start time.Time, w Windows) KindsByPhase {
	out := KindsByPhase{}
	for _, p := range Phases {
		out[p] = map[Kind]int{}
	}
	for _, ev := range events {
		p := PhaseBootstrap
		if !ev.Time.IsZero() {
			p = w.Of(ev.Time.Sub(start))
		}
		out[p][ev.Kind]++
	}
	return out
}

// Total is the count of kind k over every phase.
func (c KindsByPhase) Total(k Kind) int {
	n := 0
	for _, p := range Phases {
		n += c[p][k]
	}
	return n
}
