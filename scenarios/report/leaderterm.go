package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/svg"
)

// Layout of the leader/term chart, in pixels.
const (
	ltHeader     = 96.0  // title, subtitle, legend
	ltPanelTitle = 44.0  // arm name, verdict and settings above each plot
	ltPlot       = 120.0 // plot height
	ltPanelGap   = 40.0  // tick labels and space below each plot
	ltFooter     = 24.0  // the time axis title
)

// LeaderTermSVG draws, for each arm, the raft term of every member over time
// as a step line, a mark at each new leader, and shaded spans in which no
// member knew a leader. The panels share the time axis (seconds since the
// arm started its members) so the arms compare at a glance.
func LeaderTermSVG(r Report) []byte {
	members := reportMembers(r)
	entries := legendEntries(members)
	header := ltHeader + 18*float64(len(entries)-1)
	panelH := ltPanelTitle + ltPlot + ltPanelGap
	height := header + float64(len(r.Arms))*panelH + ltFooter
	d := svg.New(chartWidth, height, "Raft term and leader over time")

	d.Text(marginLeft, 30, "start", fmt.Sprintf(`font-size="%d" font-weight="bold"`, titleFontSize),
		titleFor(r, "Raft term and leader over time"))
	d.Text(marginLeft, 50, "start", `fill="`+colourMuted+`"`,
		"One step line per member: its raft term. Every election raises the term; a stable cluster stays flat.")

	for row, line := range entries {
		for _, e := range line {
			e.draw(d, 76+18*float64(row))
		}
	}

	ticks := niceTicks(r.span().Seconds(), 10, 1)
	end := ticks[len(ticks)-1]
	x := func(t measure.Seconds) float64 { return marginLeft + t.Seconds()/end*plotWidth }

	for i, a := range r.Arms {
		top := header + float64(i)*panelH
		leaderTermPanel(d, a, members, top, ticks, x)
	}
	d.Text(marginLeft+plotWidth/2, height-12, "middle", `fill="`+colourMuted+`"`, "seconds since the arm started its members")
	return d.Bytes()
}

// titleFor prefixes a chart's title with the scenario's name.
func titleFor(r Report, title string) string {
	if r.Scenario == "" {
		return title
	}
	return r.Scenario + ": " + title
}

// reportMembers lists the members of every arm, sorted, so that a member
// keeps its colour across panels.
func reportMembers(r Report) []string {
	var all []Sample
	for _, a := range r.Arms {
		all = append(all, a.Samples...)
	}
	return armMembers(Arm{Samples: all})
}

// memberStroke draws members thick to thin so that lines that coincide
// (every member at the same term, as in a healthy cluster) all stay visible.
func memberStroke(i int) string {
	width := max(5.5-2*float64(i), 1.5)
	return fmt.Sprintf(`fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round"`, memberColour(i), svg.Num(width))
}

// legendEntry is one swatch and its label, placed at x.
type legendEntry struct {
	x      float64
	label  string
	swatch func(d *svg.Doc, x, y float64)
}

func (e legendEntry) draw(d *svg.Doc, y float64) {
	e.swatch(d, e.x, y)
	d.Text(e.x+28, y, "start", "", e.label)
}

// legendEntries lays out the legend: each member's line, the shading and
// the leader mark, wrapped into rows that fit the chart.
func legendEntries(members []string) [][]legendEntry {
	var all []legendEntry
	for i, m := range members {
		all = append(all, legendEntry{label: m, swatch: func(d *svg.Doc, x, y float64) {
			d.Line(x, y-4, x+22, y-4, memberStroke(i))
		}})
	}
	all = append(all,
		legendEntry{label: "bootstrap (before the first leader)", swatch: func(d *svg.Doc, x, y float64) {
			d.Rect(x, y-12, 22, 14, `fill="`+colourBoot+`"`)
		}},
		legendEntry{label: "no leader (after the first, or never elected)", swatch: func(d *svg.Doc, x, y float64) {
			d.Rect(x, y-12, 22, 14, `fill="`+colourNoLead+`"`)
		}},
		legendEntry{label: "new leader (named)", swatch: func(d *svg.Doc, x, y float64) {
			diamond(d, x+11, y-5, "")
		}})
	rows := [][]legendEntry{nil}
	x := marginLeft
	for _, e := range all {
		w := 28 + textWidth(e.label, 12)
		if x+w > marginLeft+plotWidth && len(rows[len(rows)-1]) > 0 {
			rows = append(rows, nil)
			x = marginLeft
		}
		e.x = x
		rows[len(rows)-1] = append(rows[len(rows)-1], e)
		x += w + 24
	}
	return rows
}

// diamond marks a new leader; title, when set, is its tooltip.
func diamond(d *svg.Doc, x, y float64, title string) {
	p := fmt.Sprintf("M%s %sl5 5l-5 5l-5 -5z", svg.Num(x), svg.Num(y-5))
	if title == "" {
		d.Path(p, `fill="`+colourText+`"`)
		return
	}
	d.Raw(`<path d="%s" fill="%s"><title>%s</title></path>`, p, colourText, svg.Esc(title))
}

func leaderTermPanel(d *svg.Doc, a Arm, members []string, top float64, ticks []float64, x func(measure.Seconds) float64) {
	plotTop := top + ltPanelTitle
	plotBottom := plotTop + ltPlot

	panelTitle(d, top, a.Name, colourText, Verdict(a), outcomeColour(a), armSetting(a))

	// Headroom above the highest term keeps the leaders' names clear of the lines.
	termTicks := niceTicks(float64(maxSampleTerm(a))*1.35+0.5, 5, 1)
	termTop := termTicks[len(termTicks)-1]
	y := func(term uint64) float64 { return plotBottom - float64(term)/termTop*ltPlot }

	leaderless, elections := timeline(a.Samples)
	for _, s := range leaderless {
		// The bootstrap is its own phase: the table's time without a
		// leader does not count it, so neither does this shade.
		if a.Elected() && s.to <= a.TimeToFirstLeader {
			d.RectTitled(x(s.from), plotTop, x(s.to)-x(s.from), ltPlot, `fill="`+colourBoot+`" fill-opacity="0.8"`,
				fmt.Sprintf("bootstrap: no leader yet from %s to %s", formatDuration(s.from), formatDuration(s.to)))
			continue
		}
		d.RectTitled(x(s.from), plotTop, x(s.to)-x(s.from), ltPlot, `fill="`+colourNoLead+`" fill-opacity="0.7"`,
			fmt.Sprintf("no leader from %s to %s", formatDuration(s.from), formatDuration(s.to)))
	}
	// Check perf's window, shaded: the status rounds go on through it.
	if p := a.Phases; p.End > p.ObservationEnd && p.ObservationEnd > 0 {
		d.RectTitled(x(p.ObservationEnd), plotTop, x(p.End)-x(p.ObservationEnd), ltPlot, `fill="`+colourGrid+`" fill-opacity="0.6"`,
			fmt.Sprintf("check perf from %s to %s", formatDuration(p.ObservationEnd), formatDuration(p.End)))
		d.Text(x(p.ObservationEnd)+4, plotBottom-6, "start", `fill="`+colourMuted+`" font-size="10"`, "check perf")
	}
	for _, t := range termTicks {
		yy := plotBottom - t/termTop*ltPlot
		d.Line(marginLeft, yy, marginLeft+plotWidth, yy, `stroke="`+colourGrid+`"`)
		d.Text(marginLeft-8, yy+4, "end", `fill="`+colourMuted+`" font-size="11"`, tickLabel(t))
	}
	for _, t := range ticks {
		xx := x(measure.Seconds(t * float64(time.Second)))
		d.Line(xx, plotBottom, xx, plotBottom+5, `stroke="`+colourAxis+`"`)
		d.Text(xx, plotBottom+18, "middle", `fill="`+colourMuted+`" font-size="11"`, tickLabel(t))
	}
	d.Raw(`<text x="%s" y="%s" text-anchor="middle" transform="rotate(-90 %s %s)" fill="%s" font-size="11">term</text>`,
		svg.Num(marginLeft-40), svg.Num(plotTop+ltPlot/2), svg.Num(marginLeft-40), svg.Num(plotTop+ltPlot/2), colourMuted)
	d.Line(marginLeft, plotBottom, marginLeft+plotWidth, plotBottom, `stroke="`+colourAxis+`"`)
	d.Line(marginLeft, plotTop, marginLeft, plotBottom, `stroke="`+colourAxis+`"`)

	if len(a.Samples) == 0 {
		d.Text(marginLeft+plotWidth/2, plotTop+ltPlot/2, "middle", `fill="`+colourMuted+`"`, "no samples")
		return
	}

	byMember := map[string][]Sample{}
	for _, s := range sortedSamples(a.Samples) {
		byMember[s.Member] = append(byMember[s.Member], s)
	}
	for i, m := range members {
		ss := byMember[m]
		if len(ss) == 0 {
			continue
		}
		var p strings.Builder
		fmt.Fprintf(&p, "M%s %s", svg.Num(x(ss[0].At)), svg.Num(y(ss[0].Term)))
		for _, s := range ss[1:] {
			fmt.Fprintf(&p, "H%sV%s", svg.Num(x(s.At)), svg.Num(y(s.Term)))
		}
		d.Path(p.String(), memberStroke(i))
	}

	// Labels take the upper of two rows when it is free, else the lower, so
	// that leaders elected in quick succession stay named.
	rowEnd := []float64{0, 0}
	for _, e := range elections {
		xx := x(e.at)
		d.Line(xx, plotTop, xx, plotBottom, `stroke="`+colourText+`" stroke-opacity="0.55" stroke-dasharray="3 3"`)
		diamond(d, xx, plotTop+6, fmt.Sprintf("%s leader at %s, term %d", e.leader, formatDuration(e.at), e.term))
		label := e.leader
		width := textWidth(label, 11)
		from, anchor, lx := xx+6, "start", xx+6
		if from+width > marginLeft+plotWidth {
			from, anchor, lx = xx-6-width, "end", xx-6
		}
		for row, end := range rowEnd {
			if from > end {
				d.Text(lx, plotTop+15+float64(row)*14, anchor, `font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, label)
				rowEnd[row] = from + width + 6
				break
			}
		}
	}
}

// panelTitle writes the two lines above a panel: the arm's name and a
// remark in colour, then the arm's settings.
func panelTitle(d *svg.Doc, top float64, name, nameColour, remark, remarkColour, setting string) {
	d.Raw(`<text x="%s" y="%s" text-anchor="start"><tspan font-weight="bold" font-size="14" fill="%s">%s</tspan><tspan dx="10" font-weight="bold" fill="%s">%s</tspan></text>`,
		svg.Num(marginLeft), svg.Num(top+16), nameColour, svg.Esc(name), remarkColour, svg.Esc(remark))
	d.Text(marginLeft, top+32, "start", `fill="`+colourMuted+`" font-size="11.5"`, setting)
}

// textWidth estimates the width of s in the chart's font (DejaVu Sans
// averages a little over half an em per character of running text).
func textWidth(s string, size float64) float64 {
	return float64(len([]rune(s))) * size * 0.53
}

// sideLabel writes a small haloed label beside a vertical mark at xx: to its
// right, or to its left when it would run past the plot.
func sideLabel(d *svg.Doc, xx, y float64, label string) {
	anchor, lx := "start", xx+8
	if lx+textWidth(label, 11) > marginLeft+plotWidth {
		anchor, lx = "end", xx-8
	}
	d.Text(lx, y, anchor, `font-size="11" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, label)
}

// armSetting describes an arm's configuration in a few words, leaving out
// what is unknown.
func armSetting(a Arm) string {
	var parts []string
	if a.Profile != "" {
		parts = append(parts, a.Profile+" disk")
	}
	if a.EtcdVersion != "" {
		parts = append(parts, "etcd "+a.EtcdVersion)
	}
	if a.PreVoteOff {
		parts = append(parts, "pre-vote off")
	}
	parts = append(parts, "heartbeat "+formatTimeout(a.Heartbeat), "election "+formatTimeout(a.Election))
	if a.FsyncP99 > 0 {
		parts = append(parts, "probe fsync p99 "+formatDuration(a.FsyncP99))
	}
	return strings.Join(parts, ", ")
}

func maxSampleTerm(a Arm) uint64 {
	m := uint64(a.MaxTerm)
	for _, s := range a.Samples {
		m = max(m, s.Term)
	}
	return m
}
