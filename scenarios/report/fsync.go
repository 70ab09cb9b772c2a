package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/kthw-lab/lab/scenarios/svg"
)

// Layout of the fsync chart, in pixels.
const (
	fsHeader     = 104.0
	fsPanelTitle = 44.0
	fsPlot       = 110.0
	fsPanelGap   = 36.0
	fsFooter     = 24.0
)

// etcdFsyncBounds are the upper bounds of etcd_disk_wal_fsync_duration_seconds
// (1 ms doubling to 8.192 s), the axis when no arm brought a histogram.
var etcdFsyncBounds = func() []float64 {
	b := make([]float64, 14)
	for i := range b {
		b[i] = 0.001 * math.Pow(2, float64(i))
	}
	return b
}()

// FsyncSVG draws the distribution of WAL fsync latency of each arm: one
// panel per arm, a bar per histogram bucket giving the share of the arm's
// fsyncs in it, on a shared logarithmic axis from 1 ms to 8 s. Lines across
// the panels mark etcd's guidance (p99 under 10 ms) and the 1 s beyond which
// etcd logs every fsync as slow; a line in each panel marks the arm's
// election timeout, the time a stalled raft loop can afford.
func FsyncSVG(r Report) []byte {
	panelH := fsPanelTitle + fsPlot + fsPanelGap
	height := fsHeader + float64(max(len(r.Arms), 1))*panelH + fsFooter
	d := svg.New(chartWidth, height, "WAL fsync latency per arm")

	d.Text(marginLeft, 30, "start", fmt.Sprintf(`font-size="%d" font-weight="bold"`, titleFontSize),
		titleFor(r, "WAL fsync latency per arm"))
	d.Text(marginLeft, 50, "start", `fill="`+colourMuted+`"`,
		"Share of each arm's WAL fsyncs (etcd_disk_wal_fsync_duration_seconds, all members) per histogram bucket.")

	bounds, inf := fsyncBounds(r)
	lo := math.Log2(bounds[0]) - 1
	hi := math.Log2(bounds[len(bounds)-1])
	if inf {
		hi++
	}
	x := func(v float64) float64 {
		return marginLeft + (math.Log2(v)-lo)/(hi-lo)*plotWidth
	}

	maxShare := 0.0
	for _, a := range r.Arms {
		for _, s := range shares(a.FsyncBuckets) {
			maxShare = math.Max(maxShare, s)
		}
	}
	shareTicks := niceTicks(maxShare*100*1.12, 4, 5)

	refs := []reference{
		{0.010, colourGood, "4 3", "10 ms: etcd's guidance for p99"},
		{1.0, colourBad, "7 4", "1 s: etcd logs the fsync as slow (“expected less than 1s”)"},
	}
	lx := marginLeft
	for _, ref := range refs {
		d.Line(lx, 72, lx+24, 72, ref.stroke())
		d.Text(lx+30, 76, "start", "", ref.label)
		lx += 30 + textWidth(ref.label, 12) + 24
	}
	d.Line(lx, 72, lx+24, 72, electionStroke)
	d.Text(lx+30, 76, "start", "", "election timeout of the arm")

	for i, a := range r.Arms {
		top := fsHeader + float64(i)*panelH
		fsyncPanel(d, a, i, top, bounds, inf, shareTicks, refs, x)
	}
	d.Text(marginLeft+plotWidth/2, height-12, "middle", `fill="`+colourMuted+`"`,
		"WAL fsync latency (log scale; each bar is one histogram bucket, up to its bound)")
	return d.Bytes()
}

// reference is a latency marked across every panel.
type reference struct {
	seconds      float64
	colour, dash string
	label        string
}

func (r reference) stroke() string {
	return fmt.Sprintf(`stroke="%s" stroke-width="1.8" stroke-dasharray="%s"`, r.colour, r.dash)
}

const electionStroke = `stroke="` + colourText + `" stroke-width="1.5" stroke-dasharray="1 3"`

// fsyncBounds returns the finite bucket bounds of every arm, sorted, and
// whether any arm has a +Inf bucket.
func fsyncBounds(r Report) (bounds []float64, inf bool) {
	for _, a := range r.Arms {
		for _, b := range a.FsyncBuckets {
			switch ub := float64(b.UpperBound); {
			case math.IsInf(ub, 1):
				inf = true
			case ub > 0 && !slices.Contains(bounds, ub):
				bounds = append(bounds, ub)
			}
		}
	}
	if len(bounds) == 0 {
		return etcdFsyncBounds, true
	}
	slices.Sort(bounds)
	return bounds, inf
}

// shares is the fraction of observations in each bucket.
func shares(buckets []Bucket) []float64 {
	counts := perBucket(buckets)
	total := 0.0
	for _, c := range counts {
		total += c
	}
	out := make([]float64, len(counts))
	if total == 0 {
		return out
	}
	for i, c := range counts {
		out[i] = c / total
	}
	return out
}

func fsyncPanel(d *svg.Doc, a Arm, i int, top float64, bounds []float64, inf bool, shareTicks []float64, refs []reference, x func(float64) float64) {
	plotTop := top + fsPanelTitle
	plotBottom := plotTop + fsPlot
	shareTop := shareTicks[len(shareTicks)-1]

	counts := perBucket(a.FsyncBuckets)
	total := 0.0
	for _, c := range counts {
		total += c
	}
	summary := fmt.Sprintf("%s WAL fsyncs, mean %s, p50 %s, p99 %s", significantCount(total),
		orDash(a.WALFsyncMean), leCell(a.WALFsyncP50Le), leCell(a.WALFsyncP99Le))
	panelTitle(d, top, a.Name, armColour(i), summary, colourText, armSetting(a))

	for _, t := range shareTicks {
		yy := plotBottom - t/shareTop*fsPlot
		d.Line(marginLeft, yy, marginLeft+plotWidth, yy, `stroke="`+colourGrid+`"`)
		d.Text(marginLeft-8, yy+4, "end", `fill="`+colourMuted+`" font-size="11"`, tickLabel(t)+" %")
	}

	left := math.Pow(2, math.Log2(bounds[0])-1)
	for _, b := range bounds {
		xx := x(b)
		d.Line(xx, plotBottom, xx, plotBottom+5, `stroke="`+colourAxis+`"`)
		d.Text(xx, plotBottom+18, "middle", `fill="`+colourMuted+`" font-size="11"`, boundLabel(b))
	}
	if inf {
		last := bounds[len(bounds)-1]
		// At the plot's end, clear of the last bound's label.
		d.Text(x(last*2), plotBottom+18, "end", `fill="`+colourMuted+`" font-size="11"`, "> "+boundLabel(last))
	}

	if total == 0 {
		d.Text(marginLeft+plotWidth/2, plotTop+fsPlot/2, "middle", `fill="`+colourMuted+`"`, "no WAL fsyncs recorded")
	}
	prev := 0.0
	for j, b := range a.FsyncBuckets {
		from, to := left, float64(b.UpperBound)
		if j > 0 {
			from = prev
		}
		prev = float64(b.UpperBound)
		if math.IsInf(to, 1) {
			to = bounds[len(bounds)-1] * 2
		}
		if j == 0 {
			from = math.Min(left, to/2)
		}
		if counts[j] == 0 || total == 0 {
			continue
		}
		share := counts[j] / total
		h := share * 100 / shareTop * fsPlot
		x0, x1 := x(from)+3, x(to)-3
		d.RectTitled(x0, plotBottom-h, x1-x0, h, `fill="`+armColour(i)+`"`,
			fmt.Sprintf("%s: %s fsyncs in %s (%s %%)", a.Name, significantCount(counts[j]), bucketRange(j, a.FsyncBuckets), significant(share*100)))
		if share >= 0.01 {
			d.Text((x0+x1)/2, plotBottom-h-4, "middle", `font-size="11"`, shareLabel(share))
		}
	}

	for _, ref := range refs {
		d.Line(x(ref.seconds), plotTop, x(ref.seconds), plotBottom, ref.stroke())
	}
	if a.Election > 0 {
		xx := x(a.Election.Seconds())
		if xx > marginLeft && xx < marginLeft+plotWidth {
			d.Line(xx, plotTop, xx, plotBottom, electionStroke)
			d.Path(fmt.Sprintf("M%s %sh10l-5 7z", svg.Num(xx-5), svg.Num(plotTop)), `fill="`+colourText+`"`)
			sideLabel(d, xx, plotTop+10, "election timeout "+formatTimeout(a.Election))
		}
	}
	d.Line(marginLeft, plotBottom, marginLeft+plotWidth, plotBottom, `stroke="`+colourAxis+`"`)
	d.Line(marginLeft, plotTop, marginLeft, plotBottom, `stroke="`+colourAxis+`"`)
}

// boundLabel names a bucket bound the way etcd's documentation does
// (1 ms … 8 s): milliseconds below a second, whole seconds above.
func boundLabel(v float64) string {
	if v < 1 {
		return significant(v*1000) + " ms"
	}
	if v < 10 {
		return strconv.Itoa(int(v)) + " s"
	}
	return significant(v) + " s"
}

// bucketRange writes a bucket's interval exactly, for tooltips.
func bucketRange(j int, buckets []Bucket) string {
	hi := float64(buckets[j].UpperBound)
	if j == 0 {
		return "≤ " + exactSeconds(hi)
	}
	lo := float64(buckets[j-1].UpperBound)
	if math.IsInf(hi, 1) {
		return "> " + exactSeconds(lo)
	}
	return "(" + exactSeconds(lo) + ", " + exactSeconds(hi) + "]"
}

func exactSeconds(v float64) string {
	return formatDuration(time.Duration(v * float64(time.Second)))
}

func shareLabel(share float64) string {
	p := share * 100
	if p < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// significantCount writes a count of observations (histogram counts are
// floats, but these are whole).
func significantCount(v float64) string {
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}
