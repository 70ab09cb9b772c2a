package slowdisk

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kthw-lab/lab/scenarios/report"
)

// Contrast checks that a report shows what the scenario is for: the ssd
// arm keeps one leader after its first election; the hdd arm shows the
// story's symptoms — repeated elections (at least two campaigns) that
// either never produce a leader or take more than
// report.ControlFirstLeaderTimeouts election timeouts
// (report.SlowFirstLeader), or a leader that changes, and slow-fsync warnings in the log;
// hdd-tuned keeps one leader. Arms that did not run are not judged.
//
// A run whose control is not healthy shows nothing either way: Contrast
// returns report.Inconclusive and the control's figures.
func Contrast(r report.Report) error {
	if c := report.Control(r); !c.Healthy {
		return errors.New(c.Line())
	}
	arms := map[string]report.Arm{}
	for _, a := range r.Arms {
		arms[a.Name] = a
	}
	var errs []error
	for _, name := range []string{"ssd", "hdd-tuned"} {
		if a, ok := arms[name]; ok && !report.Stable(a) {
			errs = append(errs, fmt.Errorf("%s did not keep one leader: %s", name, report.Verdict(a)))
		}
	}
	if hdd, ok := arms["hdd"]; ok {
		if err := ElectionTrouble(hdd); err != nil {
			errs = append(errs, fmt.Errorf("hdd: %w", err))
		}
		if hdd.SlowFsyncLines == 0 {
			errs = append(errs, errors.New("hdd logged no slow fsync"))
		}
	}
	// The story's generation, where it ran: hdd on it has the trouble,
	// hdd-tuned on it elects.
	for _, a := range r.Arms {
		base, ver, ok := strings.Cut(a.Name, "@")
		switch {
		case !ok:
		case base == "hdd":
			if err := ElectionTrouble(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", a.Name, err))
			}
			if a.SlowFsyncLines == 0 {
				errs = append(errs, fmt.Errorf("%s logged no slow fsync", a.Name))
			}
		case base == "hdd-tuned" && !a.Elected():
			errs = append(errs, fmt.Errorf("%s never elected a leader on etcd %s", a.Name, ver))
		}
	}
	return errors.Join(errs...)
}

// ElectionTrouble returns nil when the arm's cluster had trouble electing
// or keeping a leader, and says why not otherwise.
func ElectionTrouble(a report.Arm) error {
	if a.Elections < 2 {
		return fmt.Errorf("%d election(s): no repeated elections", a.Elections)
	}
	switch {
	case !a.Elected(), a.LeaderChanges-a.LeaderChangesByPhase.CheckPerf > 0, report.SlowFirstLeader(a):
		return nil
	}
	return fmt.Errorf("the first leader came after %s (%d × the election timeout) and stayed: no election trouble",
		a.TimeToFirstLeader, a.TimeToFirstLeader/max(a.Election, 1))
}

// ContrastShown says in words what a report that passed Contrast showed, naming
// only the arms that ran.
func ContrastShown(r report.Report) string {
	says := map[string]string{
		"ssd":       "ssd keeps one leader",
		"hdd":       "hdd struggles to elect one and logs slow fsyncs",
		"hdd-tuned": "hdd-tuned keeps one leader",
	}
	var parts []string
	for _, a := range r.Arms {
		if s, ok := says[a.Name]; ok {
			parts = append(parts, s)
		} else if base, ver, ok := strings.Cut(a.Name, "@"); ok && base == "hdd" {
			parts = append(parts, "hdd on etcd "+ver+" struggles to elect one and logs slow fsyncs")
		} else if ok && base == "hdd-tuned" {
			parts = append(parts, "hdd-tuned on etcd "+ver+" elects one")
		}
	}
	return strings.Join(parts, "; ")
}
