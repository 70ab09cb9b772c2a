package report

import (
	"fmt"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/svg"
)

// Layout of the leadership chart, in pixels.
const (
	lsHeader = 96.0 // title, subtitle, legend
	lsRow    = 46.0 // one arm: its band and its label
	lsBand   = 22.0
	lsFooter = 44.0 // tick labels and the axis title
)

// LeadershipSVG draws every arm's leadership on one time axis, one row per
// arm: the bootstrap (no leader yet), each leader's tenure in green with a
// mark at each new leader, spans without a leader after the first in red,
// and check perf's phase hatched at the end. Arms that ran different
// lengths of time share the axis, so their stories line up.
func LeadershipSVG(r Report) []byte {
	height := lsHeader + float64(len(r.Arms))*lsRow + lsFooter
	d := svg.New(chartWidth, height, "Leadership per arm")
	d.Text(marginLeft, 30, "start", fmt.Sprintf(`font-size="%d" font-weight="bold"`, titleFontSize),
		titleFor(r, "Leadership per arm, on one time axis"))
	d.Text(marginLeft, 50, "start", `fill="`+colourMuted+`"`,
		"Each row is an arm: bootstrap until its first leader, then a leader (green) or none (red); check perf shaded at the end.")
	legend := []struct {
		label, attrs string
	}{
		{"bootstrap", `fill="` + colourBoot + `"`},
		{"leader", `fill="` + colourGood + `" fill-opacity="0.55"`},
		{"no leader", `fill="` + colourNoLead + `"`},
		{"check perf", `fill="` + colourGrid + `"`},
	}
	x0 := marginLeft
	for _, l := range legend {
		d.Rect(x0, 64, 22, 14, l.attrs)
		d.Text(x0+28, 76, "start", "", l.label)
		x0 += 28 + textWidth(l.label, 12) + 24
	}

	end := r.span()
	for _, a := range r.Arms {
		end = max(end, a.Phases.End)
	}
	ticks := niceTicks(end.Seconds(), 10, 1)
	last := ticks[len(ticks)-1]
	x := func(t measure.Seconds) float64 { return marginLeft + t.Seconds()/last*plotWidth }
	bottom := lsHeader + float64(len(r.Arms))*lsRow
	for _, t := range ticks {
		xx := x(measure.Seconds(t * float64(time.Second)))
		d.Line(xx, lsHeader, xx, bottom, `stroke="`+colourGrid+`"`)
		d.Text(xx, bottom+16, "middle", `fill="`+colourMuted+`" font-size="11"`, tickLabel(t))
	}
	for i, a := range r.Arms {
		top := lsHeader + float64(i)*lsRow
		leadershipRow(d, a, controlArm(r), top+16, x)
	}
	d.Text(marginLeft+plotWidth/2, height-10, "middle", `fill="`+colourMuted+`"`, "seconds since the arm started its members")
	return d.Bytes()
}

func leadershipRow(d *svg.Doc, a Arm, control *Arm, y float64, x func(measure.Seconds) float64) {
	lead, _ := Leadership(a, control)
	d.Raw(`<text x="%s" y="%s" text-anchor="start"><tspan font-weight="bold">%s</tspan><tspan dx="8" fill="%s">%s</tspan><tspan dx="8" fill="%s" font-size="11">%s</tspan></text>`,
		svg.Num(marginLeft), svg.Num(y-4), svg.Esc(a.Name), outcomeColour(a), svg.Esc(lead), colourMuted, svg.Esc(armSetting(a)))
	band := func(from, to measure.Seconds, attrs, title string) {
		if to > from {
			d.RectTitled(x(from), y, x(to)-x(from), lsBand, attrs, title)
		}
	}
	obsEnd := a.Phases.ObservationEnd
	if obsEnd == 0 {
		for _, s := range a.Samples {
			obsEnd = max(obsEnd, s.At)
		}
	}
	// The status rounds go on through check perf: its leadership is drawn
	// like the observation's, under check perf's shade.
	end := max(obsEnd, a.Phases.End)
	if !a.Elected() {
		band(0, end, `fill="`+colourNoLead+`"`, "no leader from 0 s to "+formatDuration(end))
	} else {
		band(0, a.TimeToFirstLeader, `fill="`+colourBoot+`"`, "bootstrap: no leader yet until "+formatDuration(a.TimeToFirstLeader))
		band(a.TimeToFirstLeader, end, `fill="`+colourGood+`" fill-opacity="0.55"`, "a leader")
		leaderless, elections := timeline(a.Samples)
		for _, s := range leaderless {
			if s.to <= a.TimeToFirstLeader {
				continue
			}
			band(max(s.from, a.TimeToFirstLeader), s.to, `fill="`+colourNoLead+`"`,
				fmt.Sprintf("no leader from %s to %s", formatDuration(s.from), formatDuration(s.to)))
		}
		for _, e := range elections {
			diamond(d, x(e.at), y+lsBand/2-5, fmt.Sprintf("%s leader at %s, term %d", e.leader, formatDuration(e.at), e.term))
		}
	}
	if a.Phases.End > obsEnd {
		band(obsEnd, a.Phases.End, `fill="`+colourGrid+`" fill-opacity="0.6"`, "check perf from "+formatDuration(obsEnd)+" to "+formatDuration(a.Phases.End))
	}
}
