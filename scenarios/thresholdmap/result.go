package thresholdmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kthw-lab/lab/scenarios/report"
)

// Outcomes of a cell: the slow-disk leadership verdict's three values,
// with a stable cell whose first leader came late set apart.
const (
	Stable    = "stable"
	SlowStart = "slow start"
	Unstable  = "unstable"
	Never     = "never elected"
)

// Outcome is the cell's leadership: never elected; unstable (leader
// changes or elections after the first leader, not report.Stable); slow
// start (stable, but the first leader came later than
// report.ControlFirstLeaderTimeouts election timeouts, as the slow-disk
// headline's "struggled": report.SlowFirstLeader); or stable.
func Outcome(a report.Arm) string {
	switch {
	case !a.Elected():
		return Never
	case !report.Stable(a):
		return Unstable
	case report.SlowFirstLeader(a):
		return SlowStart
	}
	return Stable
}

// Result is one measured cell, as its file holds it.
type Result struct {
	Cell Cell
	// Arm is the cell's result in the slow-disk result model.
	Arm report.Arm
	// Wall is the cell's whole time: reset, profile, probe, bootstrap,
	// observation, collection.
	Wall time.Duration
	// Host is the machine (and lab) that measured it.
	Host string
	// Finished is when the cell's file was written.
	Finished time.Time
}

// Outcome is Outcome(r.Arm).
func (r Result) Outcome() string { return Outcome(r.Arm) }

// Observed is the part of Wall the cell spent bootstrapping and observing:
// from the members' start to the end of the workload.
func (r Result) Observed() time.Duration { return r.Arm.Phases.ObservationEnd.D() }

// resultJSON is a cell's file. The arm is written by the report package
// (one JSON shape for the result model, a one-arm report.json).
type resultJSON struct {
	Cell     Cell            `json:"cell"`
	Outcome  string          `json:"outcome"`
	WallS    float64         `json:"wall_s"`
	Observed float64         `json:"observed_s"`
	Host     string          `json:"host"`
	Finished time.Time       `json:"finished"`
	Report   json.RawMessage `json:"report"`
}

// MarshalJSON writes the cell's file.
func (r Result) MarshalJSON() ([]byte, error) {
	var rep bytes.Buffer
	if err := report.WriteJSON(&rep, report.Report{Scenario: "threshold-map", Host: r.Host,
		EtcdVersion: r.Cell.Version, Duration: r.Arm.Phases.ObservationEnd - r.Arm.Phases.ObservationStart,
		Arms: []report.Arm{r.Arm}}); err != nil {
		return nil, fmt.Errorf("cell %s: %w", r.Cell.ID(), err)
	}
	return json.Marshal(resultJSON{Cell: r.Cell, Outcome: r.Outcome(), WallS: r.Wall.Seconds(),
		Observed: r.Observed().Seconds(), Host: r.Host, Finished: r.Finished.UTC(), Report: rep.Bytes()})
}

// UnmarshalJSON reads a cell's file.
func (r *Result) UnmarshalJSON(b []byte) error {
	var j resultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	rep, err := report.ReadJSON(bytes.NewReader(j.Report))
	if err != nil {
		return err
	}
	if len(rep.Arms) != 1 {
		return fmt.Errorf("cell %s: its report has %d arms, want 1", j.Cell.ID(), len(rep.Arms))
	}
	*r = Result{Cell: j.Cell, Arm: rep.Arms[0], Wall: time.Duration(j.WallS * float64(time.Second)),
		Host: j.Host, Finished: j.Finished}
	return nil
}
