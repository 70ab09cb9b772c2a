package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// row is one line of the comparison: a figure's name, one cell per arm.
// Its label says the figure's window, from the glossary.
type row struct {
	name string
	cell func(Arm) string
}

// label is the row's name and, for a figure, its window: "elections
// (bootstrap / observation / check perf)".
func (rw row) label() string {
	if w := windowOf(rw.name); w != "" && w != rw.name {
		return rw.name + " (" + w + ")"
	}
	return rw.name
}

// rows are the comparison's lines, shared by Table and WriteMarkdown.
func rows(r Report) []row {
	rs := []row{
		{"profile", func(a Arm) string { return a.Profile }},
		{"heartbeat / election", func(a Arm) string {
			return formatTimeout(a.Heartbeat) + " / " + formatTimeout(a.Election)
		}},
		{"probe fsync p50 / p99", probeCell},
		{"phase lengths", phasesCell},
		{"WAL fsync mean; p50, p99 bucket", walCell},
		{"WAL fsync mean; p99 bucket", checkPerfWALCell},
		{"time to first leader", firstLeaderCell},
		{"leader changes after the first", func(a Arm) string { return a.LeaderChangesByPhase.String() }},
		{"time without leader after the first", withoutLeaderCell},
		{"elections", func(a Arm) string { return a.ElectionsByPhase.String() }},
		{"pre-vote / vote campaigns", func(a Arm) string {
			return strconv.Itoa(a.PreVotes.Total()) + " / " + strconv.Itoa(a.Votes.Total())
		}},
		{"max term: status; journal", func(a Arm) string { return termCell(a.MaxTerm) + "; " + termCell(a.JournalMaxTerm) }},
		{"heartbeat failures", heartbeatCell},
		{"slow-fsync lines", func(a Arm) string { return a.SlowFsyncByPhase.String() }},
		{"put p99, errors", putCell},
		{"check perf", func(a Arm) string { return checkPerfCell(a.CheckPerf) }},
		{"check perf slowest / σ", func(a Arm) string { return checkPerfLatencyCell(a.CheckPerf) }},
		{"outcome", Outcome},
		{"leadership", func(a Arm) string { v, _ := Leadership(a, controlArm(r)); return v }},
		{"disk for etcd", func(a Arm) string { v, _ := DiskFitness(a); return v }},
	}
	for _, a := range r.Arms {
		if a.Expect != "" {
			rs = append(rs, row{"expected", expectCell})
			break
		}
	}
	return rs
}

// Table writes the comparison for a terminal: one column per arm, one row
// per measurement, then each arm's one-line verdict.
func Table(w io.Writer, r Report) error {
	if len(r.Arms) == 0 {
		if _, err := io.WriteString(w, "no arms ran\n"+missingLines(r)); err != nil {
			return fmt.Errorf("writing comparison table: %w", err)
		}
		return nil
	}
	lines := [][]string{append([]string{""}, armNames(r)...)}
	for _, rw := range rows(r) {
		line := []string{rw.label()}
		for _, a := range r.Arms {
			line = append(line, cellOf(rw, a))
		}
		lines = append(lines, line)
	}
	widths := make([]int, len(lines[0]))
	for _, line := range lines {
		for i, c := range line {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	rule := make([]string, len(widths))
	for i, n := range widths {
		if i > 0 {
			rule[i] = strings.Repeat("─", n)
		}
	}
	lines = append(lines[:1], append([][]string{rule}, lines[1:]...)...)

	var b strings.Builder
	for _, line := range lines {
		var l strings.Builder
		for i, c := range line {
			l.WriteString(c)
			if i < len(line)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+3))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	nameWidth := 0
	for _, a := range r.Arms {
		nameWidth = max(nameWidth, utf8.RuneCountInString(a.Name))
	}
	for _, a := range r.Arms {
		fmt.Fprintf(&b, "%s%s   %s\n", a.Name, strings.Repeat(" ", nameWidth-utf8.RuneCountInString(a.Name)), Verdict(a))
	}
	b.WriteString(missingLines(r))
	b.WriteString("\n" + Control(r).Line() + "\n")
	if timed := wallSection(r); timed != "" {
		// Where the time went, as report.md says it, without its markup.
		b.WriteString("\nwall time")
		if r.Elapsed > 0 {
			fmt.Fprintf(&b, " (the run up to its report: %s)", formatMinutes(r.Elapsed))
		}
		b.WriteString(":\n")
		for _, a := range r.Arms {
			if a.WallTimes.Recorded() {
				fmt.Fprintf(&b, "  %s%s   %s\n", a.Name, strings.Repeat(" ", nameWidth-utf8.RuneCountInString(a.Name)), WallLine(a.WallTimes))
			}
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing comparison table: %w", err)
	}
	return nil
}

// missingLines names the arms without results, one line each.
func missingLines(r Report) string {
	var b strings.Builder
	for _, m := range r.Missing {
		fmt.Fprintf(&b, "%s   no results: %s\n", m.Name, m.Reason)
	}
	return b.String()
}

// withoutLeaderCell is the time without a leader after the first, per
// phase.
func withoutLeaderCell(a Arm) string {
	w := a.TimeWithoutLeaderByPhase
	return formatDuration(w.Bootstrap) + " / " + formatDuration(w.Observation) + " / " + formatDuration(w.CheckPerf)
}

// heartbeatCell is the heartbeat failures over bootstrap + observation,
// and over check perf when its metrics were read.
func heartbeatCell(a Arm) string {
	perf := "–"
	if a.CheckPerfMetrics.Measured {
		perf = strconv.Itoa(a.CheckPerfMetrics.HeartbeatFailures)
	}
	return strconv.Itoa(a.HeartbeatFailures) + " / " + perf
}

// checkPerfWALCell is check perf's WAL fsync mean and p99 bucket.
func checkPerfWALCell(a Arm) string {
	m := a.CheckPerfMetrics
	if !m.Measured || m.WALFsyncCount == 0 {
		return ""
	}
	return formatDuration(m.WALFsyncMean) + "; " + leCell(m.WALFsyncP99Le)
}

// phasesCell is how long each phase of the arm took.
func phasesCell(a Arm) string {
	p := a.Phases
	if p.End == 0 {
		return ""
	}
	return formatDuration(p.ObservationStart) + " / " + formatDuration(p.ObservationEnd-p.ObservationStart) +
		" / " + formatDuration(p.End-p.ObservationEnd)
}

// walCell is the WAL fsync histogram's exact mean and the buckets its p50
// and p99 fall in.
func walCell(a Arm) string {
	if a.WALFsyncP50Le == 0 {
		return ""
	}
	return formatDuration(a.WALFsyncMean) + "; " + leCell(a.WALFsyncP50Le) + ", " + leCell(a.WALFsyncP99Le)
}

// leCell says which bucket a quantile falls in: "≤ 2.048 s".
func leCell(b measure.Bound) string {
	bound := float64(b)
	if bound == 0 {
		return "–"
	}
	if math.IsInf(bound, 1) {
		return "above the last bucket"
	}
	// The bound exactly as etcd's bucket has it: 2.048 s, not 2.05 s.
	if bound < 1 {
		return "≤ " + strconv.FormatFloat(bound*1000, 'f', -1, 64) + " ms"
	}
	return "≤ " + strconv.FormatFloat(bound, 'f', -1, 64) + " s"
}

// cellOf is the row's cell for a, "–" when there is nothing to say.
func cellOf(rw row, a Arm) string {
	if c := rw.cell(a); c != "" {
		return c
	}
	return "–"
}

func armNames(r Report) []string {
	names := make([]string, len(r.Arms))
	for i, a := range r.Arms {
		names[i] = a.Name
	}
	return names
}

// probeCell is the probe's quantiles, naming the earlier arm whose probe
// they are when the disk was not probed again.
func probeCell(a Arm) string {
	cell := orDash(a.FsyncP50) + " / " + orDash(a.FsyncP99)
	if a.ProbeFrom != "" {
		cell += " (probe of " + a.ProbeFrom + ")"
	}
	return cell
}
