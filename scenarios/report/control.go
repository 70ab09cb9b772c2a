package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/scenarios/measure"
)

// The rules that decide whether the control arm (the ssd profile, etcd's
// defaults) shows a host fit to judge the others. A control that breaks one
// makes the run inconclusive: what the other arms show may be the host's
// CPU, not their disk.
const (
	// ControlFirstLeaderTimeouts: a healthy cluster elects within two
	// election timeouts (followers time out after a random [election,
	// 2 × election)); ten leave room for start-up fsyncs on a busy host.
	ControlFirstLeaderTimeouts = 10
	// ControlProbeP99Max: 20 × etcd's 10 ms guidance. The emulated ssd
	// profile measured 35–95 ms at p99 here (three TCG guests on one host
	// disk); a control above this is not the fast disk it stands for.
	ControlProbeP99Max = measure.Seconds(200 * time.Millisecond)
	// ControlStealMax: the share of a guest's CPU time the host gave to
	// others (steal in /proc/stat). Above it, the guests starve.
	ControlStealMax = 0.10
)

// The rules of the disk-fitness verdict.
const (
	// EtcdFsyncGuidance: etcd's hardware guidance wants the 99th
	// percentile of WAL fsync below 10 ms.
	EtcdFsyncGuidance = measure.Seconds(10 * time.Millisecond)
	// PutSLO: the Kubernetes API's latency SLO for mutating calls
	// (p99 ≤ 1 s), which every write through etcd serves.
	PutSLO = measure.Seconds(time.Second)
)

// rule is a Rule.
func rule(text string, ok bool) Rule { return Rule{Text: text, OK: ok} }

// ruleText is a rule with its mark: ✓ held, ✗ broken.
func ruleText(r Rule) string {
	if r.OK {
		return r.Text + " ✓"
	}
	return r.Text + " ✗"
}

func rulesText(rules []Rule) string {
	parts := make([]string, len(rules))
	for i, r := range rules {
		parts[i] = ruleText(r)
	}
	return strings.Join(parts, "; ")
}

// ControlCheck is the verdict on the control arm: whether this host can
// judge the others.
type ControlCheck struct {
	// Arm is the control's name; "" when no control ran.
	Arm string `json:"arm"`
	// Healthy is false when a rule failed: the run is inconclusive.
	Healthy bool `json:"healthy"`
	// Verdict is Line(), filled by Judge.
	Verdict string `json:"verdict"`
	Rules   []Rule `json:"rules"`
	// Figures are what the control measured that no rule judges (check
	// perf, loads), for the reader.
	Figures string `json:"figures,omitempty"`
}

// Inconclusive is the verdict of a run whose control is not healthy.
const Inconclusive = "inconclusive: this host is too slow to judge"

// SlowFirstLeader says whether an arm elected its first leader later than
// ControlFirstLeaderTimeouts election timeouts. It is the one rule for a
// late first leader: the control's first rule, Verdict's "stable once
// elected, but…", the headline's "struggled", slowdisk.ElectionTrouble and
// the threshold map's "slow start".
func SlowFirstLeader(a Arm) bool {
	return a.Elected() && a.Election > 0 && a.TimeToFirstLeader > ControlFirstLeaderTimeouts*a.Election
}

// Control finds the control arm (the first on the ssd profile) and checks
// it. With no control, Arm is "" and Healthy is true: nothing says the
// host is too slow, and nothing says it is not.
func Control(r Report) ControlCheck {
	c := controlArm(r)
	if c == nil {
		return ControlCheck{Healthy: true, Rules: []Rule{}}
	}
	out := ControlCheck{Arm: c.Name, Rules: []Rule{}}
	limit := ControlFirstLeaderTimeouts * c.Election
	if c.Elected() {
		out.Rules = append(out.Rules, rule(fmt.Sprintf("first leader after %s ≤ %d × the election timeout (%s)",
			formatDuration(c.TimeToFirstLeader), ControlFirstLeaderTimeouts, formatDuration(limit)), !SlowFirstLeader(*c)))
	} else {
		out.Rules = append(out.Rules, Rule{Text: "no leader ever elected", OK: false})
	}
	if c.FsyncP99 > 0 {
		out.Rules = append(out.Rules, rule(fmt.Sprintf("probe fsync p99 %s ≤ %s", formatDuration(c.FsyncP99),
			formatDuration(ControlProbeP99Max)), c.FsyncP99 <= ControlProbeP99Max))
	}
	if c.CPU.Measured {
		out.Rules = append(out.Rules, rule(fmt.Sprintf("guest CPU steal %s ≤ %s", percent(c.CPU.Steal),
			percent(ControlStealMax)), c.CPU.Steal <= ControlStealMax))
	}
	out.Healthy = true
	for _, rule := range out.Rules {
		out.Healthy = out.Healthy && rule.OK
	}
	var figs []string
	if c.CheckPerf.Ran {
		figs = append(figs, "check perf "+significant(c.CheckPerf.Throughput)+" writes/s")
	}
	if c.CPU.Measured {
		figs = append(figs, fmt.Sprintf("guest load %s, host load %s on %d CPUs",
			significant(c.CPU.GuestLoad), significant(c.CPU.HostLoad), c.CPU.HostCPUs))
	}
	out.Figures = strings.Join(figs, ", ")
	return out
}

// Line says the control's verdict in one line, with every rule beside its
// result.
func (c ControlCheck) Line() string {
	switch {
	case c.Arm == "":
		return "no control arm ran: nothing checks that this host can judge the others"
	case c.Healthy:
		return fmt.Sprintf("control %s healthy: %s", c.Arm, rulesText(c.Rules)) + figuresSuffix(c.Figures)
	}
	return fmt.Sprintf("%s: control %s: %s", Inconclusive, c.Arm, rulesText(c.Rules)) + figuresSuffix(c.Figures)
}

func figuresSuffix(f string) string {
	if f == "" {
		return ""
	}
	return " (" + f + ")"
}

func percent(f float64) string { return significant(math.Round(f*1000)/10) + " %" }

// The leadership verdicts.
const (
	LeadershipStable   = "stable"
	LeadershipUnstable = "unstable"
	LeadershipNever    = "never elected"
)

// Leadership is the arm's leadership verdict — stable, unstable or never
// elected (Stable's rule) — and the rule with its figures, judged against
// the control's first leader and elections when a control ran.
func Leadership(a Arm, control *Arm) (verdict, rule string) {
	switch {
	case !a.Elected():
		verdict = LeadershipNever
	case Stable(a):
		verdict = LeadershipStable
	default:
		verdict = LeadershipUnstable
	}
	var parts []string
	if a.Elected() {
		parts = append(parts, "first leader after "+formatDuration(a.TimeToFirstLeader)+relative(a.TimeToFirstLeader, control, func(c Arm) measure.Seconds {
			if c.Elected() {
				return c.TimeToFirstLeader
			}
			return 0
		}))
	}
	elections := plural(a.Elections, "election", "elections")
	if control != nil && control.Name != a.Name && control.Elections > 0 {
		elections += fmt.Sprintf(" (control %d)", control.Elections)
	}
	parts = append(parts, elections, plural(judgedChanges(a), "leader change", "leader changes")+" after the first",
		"max "+termPhrase(a))
	return verdict, "stable = elected, no leader change after the first, no higher term after it (bootstrap + observation): " + strings.Join(parts, ", ")
}

// relative writes " (N × the control's)" when a control with that figure ran.
func relative(d measure.Seconds, control *Arm, of func(Arm) measure.Seconds) string {
	if control == nil {
		return ""
	}
	c := of(*control)
	if c <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%s × the control's)", significant(float64(d)/float64(c)))
}

// DiskFitness is the arm's disk-fitness verdict and its rules: "fit" when
// every rule holds; "unfit" when the workload's puts break the SLO (the
// user sees it); otherwise "below etcd's guidance" (the probe or check
// perf fail, the puts do not yet).
func DiskFitness(a Arm) (verdict string, rules []Rule) {
	if a.FsyncP99 == 0 && a.PutCount == 0 && !a.CheckPerf.Ran {
		return "not measured", nil
	}
	if a.FsyncP99 > 0 {
		rules = append(rules, rule(fmt.Sprintf("probe fsync p99 %s ≤ %s (etcd's guidance)", formatDuration(a.FsyncP99),
			formatDuration(EtcdFsyncGuidance)), a.FsyncP99 <= EtcdFsyncGuidance))
	}
	putsOK := a.PutP99 <= PutSLO && (a.PutCount == 0 || a.PutErrors == 0)
	rules = append(rules, rule(fmt.Sprintf("puts p99 %s ≤ %s, %d/%d failed (the Kubernetes API's SLO)", orDash(a.PutP99),
		formatDuration(PutSLO), a.PutErrors, a.PutCount), putsOK))
	if a.CheckPerf.Ran {
		rules = append(rules, Rule{Text: "check perf " + checkPerfCell(a.CheckPerf), OK: a.CheckPerf.Pass})
	}
	all := true
	for _, r := range rules {
		all = all && r.OK
	}
	switch {
	case all:
		return "fit", rules
	case !putsOK:
		return fmt.Sprintf("unfit (puts p99 %s)", orDash(a.PutP99)), rules
	}
	return "below etcd's guidance", rules
}

// controlArm returns the control of r, or nil.
func controlArm(r Report) *Arm {
	for i := range r.Arms {
		if r.Arms[i].Profile == guest.SSD {
			return &r.Arms[i]
		}
	}
	return nil
}
