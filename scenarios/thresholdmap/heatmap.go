package thresholdmap

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/svg"
)

// The heatmap is SVG written by hand, as scenarios/report writes its
// charts: a few shapes and text, numbers rounded to a tenth of a pixel so
// that the documents are stable for golden files.

// Colours of the outcomes (from the Okabe–Ito palette and the report's
// good and bad), and of the lines.
const (
	ColourStable   = "#1E8449"
	ColourSlow     = "#F0E442"
	ColourUnstable = "#E69F00"
	ColourNever    = "#C0392B"
	ColourMissing  = "#e4e4e4"
	colourGuide    = "#0072B2"
	colourEdge     = "#222222"
	colourMuted    = "#666666"
)

// OutcomeColour is the fill of a cell with the outcome ("" for none).
func OutcomeColour(outcome string) string {
	switch outcome {
	case Stable:
		return ColourStable
	case SlowStart:
		return ColourSlow
	case Unstable:
		return ColourUnstable
	case Never:
		return ColourNever
	}
	return ColourMissing
}

// Layout, in pixels.
const (
	hmWidth  = 960.0
	hmLeft   = 96.0
	hmRight  = 28.0
	hmTop    = 116.0
	hmRowH   = 64.0
	hmBottom = 64.0
)

// guidanceRatio is etcd's tuning guide: election ≥ 10 × the round trip.
const guidanceRatio = 10

// HeatmapFile is the heatmap's file name for a series.
func HeatmapFile(series string) string {
	return "heatmap-" + strings.ReplaceAll(series, " ", "-") + ".svg"
}

// Heatmap draws one series: x the fsync latency, y the election timeout
// (longest at the top), each cell coloured by its outcome and labelled
// with its time to first leader and elections; etcd's guidance (election
// = 10 × fsync) as a line, and the measured boundary (below it, in each
// column, every cell was not stable) as a dashed staircase. Both axes are
// categorical; the guidance line is placed between them on a log scale.
func (m Map) Heatmap(series string) []byte {
	rows := m.Points(series)
	fsync, election := slices.Clone(m.Grid.Fsync), slices.Clone(m.Grid.Election)
	slices.Sort(fsync)
	slices.Sort(election)
	cols := len(fsync)
	plotW := hmWidth - hmLeft - hmRight
	cellW := plotW / float64(max(1, cols))
	plotH := hmRowH * float64(len(election))
	height := hmTop + plotH + hmBottom
	d := svg.New(hmWidth, height, "Threshold map, etcd "+series)
	d.Text(hmLeft, 30, "start", `font-size="18" font-weight="bold"`, "Where etcd "+series+" keeps its leader: fsync latency × election timeout")
	d.Text(hmLeft, 50, "start", `fill="`+colourMuted+`"`, fmt.Sprintf(
		"Each cell: a fresh 3-member cluster on the slow disk, heartbeat = election / %d, observed %s after its first leader.",
		m.Grid.HeartbeatRatio, m.Grid.CellDuration))
	x0 := hmLeft
	for _, l := range []struct{ label, colour string }{{"stable", ColourStable}, {"slow start", ColourSlow}, {"unstable", ColourUnstable},
		{"never elected", ColourNever}, {"not measured", ColourMissing}} {
		d.Rect(x0, 64, 22, 14, `fill="`+l.colour+`"`)
		d.Text(x0+28, 76, "start", "", l.label)
		x0 += 28 + 7*float64(len(l.label)) + 20
	}
	d.Line(hmLeft, 93, hmLeft+28, 93, `stroke="`+colourGuide+`" stroke-width="3"`)
	d.Text(hmLeft+34, 98, "start", "", "etcd's guidance: election = 10 × fsync")
	x0 = hmLeft + 34 + 7*38 + 20
	d.Line(x0, 93, x0+28, 93, `stroke="`+colourEdge+`" stroke-width="2.5" stroke-dasharray="6 4"`)
	d.Text(x0+34, 98, "start", "", "measured edge: stable above it")

	top := func(i int) float64 { return hmTop + plotH - float64(i+1)*hmRowH } // row i from the bottom
	for i, row := range rows {
		y := top(i)
		d.Text(hmLeft-10, y+hmRowH/2+4, "end", "", election[i].String())
		for j, p := range row {
			x := hmLeft + float64(j)*cellW
			o := p.Outcome()
			d.Raw(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#ffffff" stroke-width="2" data-election="%s" data-fsync="%s" data-outcome="%s"><title>%s</title></rect>`,
				svg.Num(x), svg.Num(y), svg.Num(cellW), svg.Num(hmRowH), OutcomeColour(o), p.Election, p.Fsync, svg.Esc(o), svg.Esc(cellTitle(p)))
			for k, line := range cellLabel(p) {
				attrs := `fill="#ffffff" font-size="12"`
				switch o {
				case "":
					attrs = `fill="` + colourMuted + `" font-size="12"`
				case SlowStart: // white on yellow cannot be read
					attrs = `fill="` + colourEdge + `" font-size="12"`
				}
				d.Text(x+cellW/2, y+hmRowH/2-4+float64(k)*16, "middle", attrs, line)
			}
		}
	}
	for j, f := range fsync {
		d.Text(hmLeft+(float64(j)+0.5)*cellW, hmTop+plotH+18, "middle", "", f.String())
	}
	d.Text(hmLeft+plotW/2, height-14, "middle", `fill="`+colourMuted+`"`, "fsync latency of the hdd profile (the probe's p99 in each cell's tooltip)")
	d.Raw(`<text x="18" y="%s" text-anchor="middle" fill="%s" transform="rotate(-90 18 %s)">election timeout</text>`,
		svg.Num(hmTop+plotH/2), colourMuted, svg.Num(hmTop+plotH/2))

	// The guidance line on log scales through the cells' centres.
	xs := logScale(fsync, hmLeft, cellW)
	ys := logScale(election, hmTop+plotH, -hmRowH)
	d.Raw(`<clipPath id="plot"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>`, svg.Num(hmLeft), svg.Num(hmTop), svg.Num(plotW), svg.Num(plotH))
	var guide []string
	for k := 0; k <= 4*cols; k++ {
		px := hmLeft + float64(k)*cellW/4
		f := xs.inverse(px)
		guide = append(guide, svg.Num(px)+" "+svg.Num(ys.at(f+math.Log10(guidanceRatio))))
	}
	d.Raw(`<path d="M%s" fill="none" stroke="%s" stroke-width="3" clip-path="url(#plot)" data-line="guidance"/>`, strings.Join(guide, " L"), colourGuide)

	// The measured edge: in each column, under the lowest row from which
	// every measured cell up to the top was stable.
	var edge []string
	for j := range fsync {
		lowest := len(election)
		for i := len(election) - 1; i >= 0; i-- {
			o := rows[i][j].Outcome()
			if o == "" {
				continue
			}
			if o != Stable {
				break
			}
			lowest = i
		}
		y := top(lowest) + hmRowH // the bottom of row lowest; the top edge when none
		edge = append(edge, svg.Num(hmLeft+float64(j)*cellW)+" "+svg.Num(y), svg.Num(hmLeft+float64(j+1)*cellW)+" "+svg.Num(y))
	}
	if len(edge) > 0 {
		d.Raw(`<path d="M%s" fill="none" stroke="%s" stroke-width="2.5" stroke-dasharray="6 4" data-line="edge"/>`, strings.Join(edge, " L"), colourEdge)
	}
	return d.Bytes()
}

// cellLabel is the text in a cell: time to first leader and elections,
// and the spread of outcomes over the repeats.
func cellLabel(p Point) []string {
	if len(p.Results) == 0 {
		return []string{"not measured"}
	}
	var ttfl []string
	elections := []int{}
	never := 0
	for _, r := range p.Results {
		if r.Arm.Elected() {
			ttfl = append(ttfl, figure(r.Arm.TimeToFirstLeader))
		} else {
			never++
		}
		elections = append(elections, r.Arm.Elections)
	}
	first := "no leader"
	if len(ttfl) > 0 {
		first = "leader " + strings.Join(ttfl, "/")
		if never > 0 {
			first += fmt.Sprintf(" (%d never)", never)
		}
	}
	lo, hi := slices.Min(elections), slices.Max(elections)
	second := plural(hi, "election")
	if lo != hi {
		second = fmt.Sprintf("%d–%d elections", lo, hi)
	}
	if len(p.Results) > 1 {
		second += fmt.Sprintf(", %d/%d stable", p.Count(Stable), len(p.Results))
		if n := p.Count(SlowStart); n > 0 {
			second += fmt.Sprintf(", %d slow start", n)
		}
	}
	return []string{first, second}
}

func cellTitle(p Point) string {
	if len(p.Results) == 0 {
		return fmt.Sprintf("election %s, fsync %s: not measured", p.Election, p.Fsync)
	}
	s := fmt.Sprintf("election %s, fsync %s (probe p99 %s): %s", p.Election, p.Fsync, short(p.FsyncP99()), p.Outcome())
	for _, r := range p.Results {
		s += fmt.Sprintf("; repeat %d: %s, %d leader changes, %s without leader, put p99 %s, %d put errors",
			r.Cell.Repeat, r.Outcome(), r.Arm.LeaderChanges, figure(r.Arm.TimeWithoutLeader), figure(r.Arm.PutP99), r.Arm.PutErrors)
	}
	return s
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// short writes a duration to a tenth of a second above one second, to a
// millisecond below.
func short(d time.Duration) string {
	if d >= time.Second || d <= -time.Second {
		return strconv.FormatFloat(math.Round(d.Seconds()*10)/10, 'f', -1, 64) + " s"
	}
	return fmt.Sprintf("%d ms", d.Round(time.Millisecond).Milliseconds())
}

// scale maps log10 of a value to a position, piecewise linear through the
// centres of categorical cells and extended by the end segments; with one
// category, one decade per cell.
type scale struct{ logs, pos []float64 }

func logScale(values []time.Duration, start, size float64) scale {
	var s scale
	for i, v := range values {
		s.logs = append(s.logs, math.Log10(v.Seconds()))
		s.pos = append(s.pos, start+(float64(i)+0.5)*size)
	}
	if len(values) == 1 {
		s.logs = append(s.logs, s.logs[0]+1)
		s.pos = append(s.pos, s.pos[0]+size)
	}
	return s
}

// at is the position of log value l.
func (s scale) at(l float64) float64 { return interp(s.logs, s.pos, l) }

// inverse is the log value at position p.
func (s scale) inverse(p float64) float64 { return interp(s.pos, s.logs, p) }

// interp is the piecewise linear function through (xs[i], ys[i]) at x,
// extended beyond the ends by the first and last segments; xs must be
// monotonic and hold at least two points.
func interp(xs, ys []float64, x float64) float64 {
	if len(xs) < 2 {
		return ys[0]
	}
	k := 0
	for k < len(xs)-2 && (xs[1] > xs[0]) == (x > xs[k+1]) {
		k++
	}
	return ys[k] + (x-xs[k])*(ys[k+1]-ys[k])/(xs[k+1]-xs[k])
}

// figure is short for a measured figure, "–" for one that does not exist
// (no leader, no successful put).
func figure(s measure.Seconds) string {
	if !s.Valid() {
		return "–"
	}
	return short(s.D())
}
