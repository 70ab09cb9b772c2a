package report

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// WriteMarkdown writes report.md: what was run, the comparison table, each
// arm's verdict, the charts and links to each arm's evidence. charts maps a
// chart's caption to its path relative to report.md (the chart files Write
// produces come first, in the order LeaderTermFile, FsyncFile).
func WriteMarkdown(w io.Writer, r Report, charts map[string]string) error {
	var b strings.Builder
	title := r.Scenario
	if title == "" {
		title = "scenario"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	for _, line := range Headline(r) {
		fmt.Fprintf(&b, "**%s**  \n", mdCell(line))
	}
	b.WriteString("\n" + runLine(r) + "\n\n")
	if r.Partial() {
		b.WriteString(missingSection(r))
	}
	if c := Control(r); !c.Healthy {
		fmt.Fprintf(&b, "**%s.** The other arms' figures may show this host's CPU, not their disks: %s.\n\n",
			sentence(Inconclusive), strings.TrimPrefix(c.Line(), Inconclusive+": "))
	}

	b.WriteString("## Arms\n\n")
	for _, a := range r.Arms {
		fmt.Fprintf(&b, "- **%s**: ", a.Name)
		if a.Description != "" {
			fmt.Fprintf(&b, "%s (%s).", sentence(a.Description), armSetting(a))
		} else {
			fmt.Fprintf(&b, "%s.", sentence(armSetting(a)))
		}
		if a.TimeoutRule != "" {
			fmt.Fprintf(&b, " Timeouts derived from the disk: %s.", strings.TrimSuffix(a.TimeoutRule, "."))
		}
		b.WriteString("\n")
	}

	b.WriteString("\n## Comparison\n\n")
	b.WriteString("| |")
	for _, a := range r.Arms {
		fmt.Fprintf(&b, " %s |", mdCell(a.Name))
	}
	b.WriteString("\n| --- |")
	b.WriteString(strings.Repeat(" --- |", len(r.Arms)))
	b.WriteString("\n")
	for _, rw := range rows(r) {
		fmt.Fprintf(&b, "| %s |", rw.label())
		for _, a := range r.Arms {
			fmt.Fprintf(&b, " %s |", mdCell(cellOf(rw, a)))
		}
		b.WriteString("\n")
	}

	b.WriteString("\n## Verdicts\n\n")
	control := controlArm(r)
	for _, a := range r.Arms {
		fmt.Fprintf(&b, "- **%s**: %s", a.Name, Verdict(a))
		if a.Expect != "" {
			fmt.Fprintf(&b, " (expected %s: %s)", a.Expect, metOrNot(a))
		}
		lead, rule := Leadership(a, control)
		fit, rules := DiskFitness(a)
		fmt.Fprintf(&b, "\n  - leadership: **%s** — %s\n  - disk for etcd: **%s** — %s\n", lead, rule, fit, rulesText(rules))
	}
	b.WriteString("\nAn arm is stable when its cluster elected a leader and kept it: no leader change after the first, " +
		"and no member reported another leader or a higher term afterwards. " +
		"Elections before the first leader are the bootstrap and do not count; check perf's window is shown, not judged.\n")

	b.WriteString(wallSection(r))

	if len(charts) > 0 {
		b.WriteString("\n## Charts\n\n")
		for _, c := range sortedCharts(charts) {
			fmt.Fprintf(&b, "![%s](%s)\n\n", c.caption, c.path)
		}
	}

	evidence := false
	for _, a := range r.Arms {
		evidence = evidence || a.Evidence != ""
	}
	if evidence {
		if len(charts) == 0 {
			b.WriteString("\n")
		}
		b.WriteString("## Evidence\n\n")
		for _, a := range r.Arms {
			if a.Evidence != "" {
				fmt.Fprintf(&b, "- [%s](%s/): metrics, journal excerpts, probe results, domain XML and console log\n",
					a.Name, strings.TrimSuffix(a.Evidence, "/"))
			}
		}
	}
	b.WriteString("\n" + glossarySection())
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing markdown report: %w", err)
	}
	return nil
}

// wallSection says where the run's time went: per arm, one line of its
// steps' wall times, and the run's total. Empty when nothing was timed (a
// report from before wall times were recorded).
func wallSection(r Report) string {
	var lines []string
	for _, a := range r.Arms {
		if a.WallTimes.Recorded() {
			lines = append(lines, fmt.Sprintf("- **%s** %s", a.Name, WallLine(a.WallTimes)))
		}
	}
	if len(lines) == 0 && r.Elapsed <= 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n## Wall time\n\n")
	if r.Elapsed > 0 {
		fmt.Fprintf(&b, "The run took %s up to this report (the lab's restore afterwards, when there is one, not included).\n\n", formatMinutes(r.Elapsed))
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// WallLine is an arm's wall times on one line: the total, then each step
// it took, in order ("2 min 10 s: reset 4.1 s · probe 5.2 s · …").
func WallLine(w measure.WallTimes) string {
	var steps []string
	for _, s := range w.Steps() {
		if s.Time.Valid() {
			steps = append(steps, s.Name+" "+formatDuration(s.Time.D().Round(100*time.Millisecond)))
		}
	}
	return formatMinutes(w.Total) + ": " + strings.Join(steps, " · ")
}

// formatMinutes is a wall time of minutes in whole seconds: "2 min 10 s",
// "45 s".
func formatMinutes(s measure.Seconds) string {
	d := s.D().Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

// missingSection says, before anything else, that the report is partial:
// which arms have no results and why.
func missingSection(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**Partial report: %s of %d arms have no results.**\n\n",
		plural(len(r.Missing), "arm", "arms"), len(r.Arms)+len(r.Missing))
	for _, m := range r.Missing {
		fmt.Fprintf(&b, "- **%s**: %s\n", m.Name, m.Reason)
	}
	b.WriteString("\n")
	return b.String()
}

// runLine says what was run, where, and for how long.
func runLine(r Report) string {
	var parts []string
	if !r.Started.IsZero() {
		parts = append(parts, "Run "+r.Started.Format("2006-01-02 15:04:05 MST"))
	}
	if r.Host != "" {
		parts = append(parts, "on "+r.Host)
	}
	s := strings.Join(parts, " ")
	if r.EtcdVersion != "" {
		s = strings.TrimPrefix(s+", etcd "+r.EtcdVersion, ", ")
	}
	if r.Duration > 0 {
		s = strings.TrimPrefix(s+fmt.Sprintf("; each arm observed for %s under a steady put workload", formatDuration(r.Duration)), "; ")
	}
	if s == "" {
		return "No run details recorded."
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// sentence capitalises s and drops a final full stop, for the caller to
// write.
func sentence(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func metOrNot(a Arm) string {
	if Outcome(a) == a.Expect {
		return "met"
	}
	return "NOT met"
}

// mdCell escapes what would break a Markdown table cell.
func mdCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

type chart struct{ caption, path string }

func sortedCharts(charts map[string]string) []chart {
	rank := func(path string) int {
		switch path {
		case LeadershipFile:
			return 0
		case LeaderTermFile:
			return 1
		case FsyncFile:
			return 2
		}
		return 3
	}
	var out []chart
	for caption, path := range charts {
		out = append(out, chart{caption, path})
	}
	slices.SortFunc(out, func(a, b chart) int {
		return cmp.Or(cmp.Compare(rank(a.path), rank(b.path)), cmp.Compare(a.caption, b.caption), cmp.Compare(a.path, b.path))
	})
	return out
}
