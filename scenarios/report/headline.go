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
		switch {
		case lead == LeadershipNever:
			failed = append(failed, fmt.Sprintf("%s (%s) never elected a leader: %s, %s in %s%s",
				a.Name, headlineSetting(a), plural(a.Elections, "election", "elections"), termPhrase(a),
				formatDuration(max(a.Phases.ObservationEnd, r.Duration)), putsSuffix(a)))
		case lead == LeadershipUnstable:
			failed = append(failed, fmt.Sprintf("%s (%s) lost its leader: first after %s, %s after it, %s%s",
				a.Name, headlineSetting(a), formatDuration(a.TimeToFirstLeader),
				plural(judgedChanges(a), "change", "changes"), plural(a.Elections, "election", "elections"), putsSuffix(a)))
		case struggled(a):
			failed = append(failed, fmt.Sprintf("%s (%s) struggled to elect its first leader: after %s (%s × its election timeout), %s%s",
				a.Name, headlineSetting(a), formatDuration(a.TimeToFirstLeader),
				significant(float64(a.TimeToFirstLeader)/float64(a.Election)), plural(a.Elections, "election", "elections"), putsSuffix(a)))
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
	lines := []string{"Failed: nothing — every arm that ran elected in time and kept its leader.", "Fixed: nothing needed fixing.", ""}
	if len(failed) > 0 {
		lines[0] = "Failed: " + strings.Join(failed, "; ") + "."
	}
	if len(fixed) > 0 {
		lines[1] = "Fixed: " + strings.Join(fixed, "; ") + "."
	} else if len(failed) > 0 {
		lines[1] = "Fixed: nothing — no arm elected in time and kept its leader."
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

// struggled reports whether a stable arm still shows the story's trouble:
// its first leader came later than ControlFirstLeaderTimeouts election
// timeouts (a healthy cluster elects within two), or its puts failed.
func struggled(a Arm) bool {
	return SlowFirstLeader(a) || a.PutErrors > 0
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
