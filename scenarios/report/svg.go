package report

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
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
	colourText    = "#222222"
	colourMuted   = "#666666"
	colourGrid    = "#e4e4e4"
	colourAxis    = "#888888"
	colourBad     = "#C0392B"
	colourGood    = "#1E8449"
	colourNoLead  = "#F5B7B1"
	colourBoot    = "#D6EAF8"
	fontFamily    = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
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

// svgDoc accumulates the elements of one SVG document.
type svgDoc struct {
	b strings.Builder
}

func newSVG(width, height float64, title string) *svgDoc {
	d := &svgDoc{}
	fmt.Fprintf(&d.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="%s" font-size="12" fill="%s">`+"\n",
		num(width), num(height), num(width), num(height), fontFamily, colourText)
	fmt.Fprintf(&d.b, "<title>%s</title>\n", esc(title))
	d.rect(0, 0, width, height, `fill="#ffffff"`)
	return d
}

func (d *svgDoc) bytes() []byte {
	d.b.WriteString("</svg>\n")
	return []byte(d.b.String())
}

// raw writes an element as given; attrs are already escaped.
func (d *svgDoc) raw(format string, args ...any) {
	fmt.Fprintf(&d.b, format, args...)
	d.b.WriteString("\n")
}

func (d *svgDoc) rect(x, y, w, h float64, attrs string) {
	d.raw(`<rect x="%s" y="%s" width="%s" height="%s" %s/>`, num(x), num(y), num(w), num(h), attrs)
}

// rectTitled is a rect with a tooltip.
func (d *svgDoc) rectTitled(x, y, w, h float64, attrs, title string) {
	d.raw(`<rect x="%s" y="%s" width="%s" height="%s" %s><title>%s</title></rect>`,
		num(x), num(y), num(w), num(h), attrs, esc(title))
}

func (d *svgDoc) line(x1, y1, x2, y2 float64, attrs string) {
	d.raw(`<line x1="%s" y1="%s" x2="%s" y2="%s" %s/>`, num(x1), num(y1), num(x2), num(y2), attrs)
}

func (d *svgDoc) path(p string, attrs string) {
	d.raw(`<path d="%s" %s/>`, p, attrs)
}

// text writes s at (x, y); anchor is start, middle or end.
func (d *svgDoc) text(x, y float64, anchor, attrs, s string) {
	if attrs != "" {
		attrs = " " + attrs
	}
	d.raw(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`, num(x), num(y), anchor, attrs, esc(s))
}

// num writes a coordinate with at most one decimal.
func num(v float64) string {
	v = math.Round(v*10) / 10
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// esc escapes s for text and double-quoted attributes.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
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
