package report

import (
	"math"
	"strconv"

	"github.com/kthw-lab/lab/scenarios/svg"
)

// The charts are SVG written by hand: a few shapes and text, numbers
// rounded to a tenth of a pixel so that the documents are stable for golden
// files and small enough to commit as evidence.

// Colours: the Okabe–Ito palette, distinguishable with the common colour
// vision deficiencies.
var (
	armColours    = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"}
	memberColours = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"}
)

const (
	colourText    = svg.TextColour
	colourMuted   = "#666666"
	colourGrid    = "#e4e4e4"
	colourAxis    = "#888888"
	colourBad     = "#C0392B"
	colourGood    = "#1E8449"
	colourNoLead  = "#F5B7B1"
	colourBoot    = "#D6EAF8"
	chartWidth    = 960.0
	marginLeft    = 72.0
	marginRight   = 28.0
	plotWidth     = chartWidth - marginLeft - marginRight
	titleFontSize = 18
)

func armColour(i int) string    { return armColours[i%len(armColours)] }
func memberColour(i int) string { return memberColours[i%len(memberColours)] }

func outcomeColour(a Arm) string {
	if Stable(a) {
		return colourGood
	}
	return colourBad
}

// niceTicks returns round tick values from 0 covering up to hi, about n of
// them, with steps of 1, 2 or 5 times a power of ten (at least minStep).
func niceTicks(hi float64, n int, minStep float64) []float64 {
	if hi <= 0 {
		hi = minStep
	}
	raw := hi / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	step = math.Max(step, minStep)
	var ticks []float64
	for v := 0.0; ; v += step {
		ticks = append(ticks, v)
		if v >= hi-1e-9 {
			break
		}
	}
	return ticks
}

// tickLabel writes a tick value without trailing zeros.
func tickLabel(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
