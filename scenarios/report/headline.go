package report

import (
	"fmt"
	"strings"
)

// Headline is the run in three lines, with their figures: what failed,
// what fixed it, and whether this host could judge. report.md opens with
// them and the terminal ends with them.
func Headline(r Report) []string {
	control := controlArm(r)
	var failed, fixed []string
	for _, a := range r.Arms {
		lead, _ := Leadership(a, control)
		fit, _ := DiskFitness(a)
		switch lead {
		case LeadershipNever:
			failed = append(failed, fmt.Sprintf("%s (%s) never elected a leader: %s, term %d in %s%s",
				a.Name, headlineSetting(a), plural(a.Elections, "election", "elections"), a.MaxTerm,
				formatDuration(max(a.Phases.ObservationEnd, r.Duration)), putsSuffix(a)))
		case LeadershipUnstable:
			failed = append(failed, fmt.Sprintf("%s (%s) lost its leader: first after %s, %s after it, %s%s",
				a.Name, headlineSetting(a), formatDuration(a.TimeToFirstLeader),
				plural(a.LeaderChanges, "change", "changes"), plural(a.Elections, "election", "elections"), putsSuffix(a)))
		default:
			if a.Profile == "ssd" || fit == "fit" || fit == "below etcd's guidance" {
				fixed = append(fixed, fmt.Sprintf("%s (%s) kept one leader, elected after %s; disk %s%s",
					a.Name, headlineSetting(a), formatDuration(a.TimeToFirstLeader), fit, putsSuffix(a)))
			} else {
				fixed = append(fixed, fmt.Sprintf("%s (%s) kept one leader, elected after %s, but its disk is %s: timeouts do not make a disk fast",
					a.Name, headlineSetting(a), formatDuration(a.TimeToFirstLeader), fit))
			}
		}
	}
	lines := []string{"Failed: nothing — every arm that ran kept its leader.", "Fixed: nothing needed fixing.", ""}
	if len(failed) > 0 {
		lines[0] = "Failed: " + strings.Join(failed, "; ") + "."
	}
	if len(fixed) > 0 {
		lines[1] = "Fixed: " + strings.Join(fixed, "; ") + "."
	} else if len(failed) > 0 {
		lines[1] = "Fixed: no arm kept a leader."
	}
	switch c := Control(r); {
	case !c.Healthy:
		lines[2] = "Host: " + strings.ToUpper(c.Line()[:1]) + c.Line()[1:] + "."
	case r.Partial():
		lines[2] = fmt.Sprintf("Host: %s; partial: %s without results.", c.Line(), plural(len(r.Missing), "arm", "arms"))
	default:
		lines[2] = "Host: " + c.Line() + "."
	}
	return lines
}

// headlineSetting is what set the arm apart, in a few words: its disk,
// its etcd and its timeouts.
func headlineSetting(a Arm) string {
	var parts []string
	if a.FsyncP99 > 0 {
		parts = append(parts, a.Profile+" disk, fsync p99 "+formatDuration(a.FsyncP99))
	} else if a.Profile != "" {
		parts = append(parts, a.Profile+" disk")
	}
	if a.EtcdVersion != "" {
		parts = append(parts, "etcd "+a.EtcdVersion)
	}
	if a.PreVoteOff {
		parts = append(parts, "pre-vote off")
	}
	parts = append(parts, formatTimeout(a.Heartbeat)+" / "+formatTimeout(a.Election))
	return strings.Join(parts, ", ")
}

func putsSuffix(a Arm) string {
	if a.PutCount == 0 {
		return ""
	}
	return fmt.Sprintf(", puts p99 %s, %d/%d failed", orDash(a.PutP99), a.PutErrors, a.PutCount)
}
