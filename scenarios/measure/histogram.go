package measure

import (
	"math"
	"sort"
)

// Histogram is a Prometheus histogram: cumulative counts of observations at
// most each upper bound, in seconds for every histogram etcd exports.
type Histogram struct {
	// Buckets are cumulative and ordered by bound; the implicit +Inf bucket
	// is Count.
	Buckets []Bucket `json:"buckets"`
	Count   uint64   `json:"count"`
	Sum     float64  `json:"sum"`
}

// Bucket is one cumulative histogram bucket: Count observations were at most
// UpperBound.
type Bucket struct {
	UpperBound float64 `json:"le"`
	Count      uint64  `json:"count"`
}

// Mean is the average observation, 0 when there is none.
func (h Histogram) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / float64(h.Count)
}

// Quantile estimates the q-quantile (0 ≤ q ≤ 1) the way Prometheus'
// histogram_quantile does: find the bucket holding the rank and interpolate
// linearly inside it, taking the first bucket to start at 0. A rank beyond
// the largest finite bound gives that bound. It is 0 when the histogram is
// empty.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 || len(h.Buckets) == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	rank := q * float64(h.Count)
	b := sort.Search(len(h.Buckets), func(i int) bool { return float64(h.Buckets[i].Count) >= rank })
	if b == len(h.Buckets) {
		return h.Buckets[b-1].UpperBound
	}
	start, end := 0.0, h.Buckets[b].UpperBound
	inBucket := float64(h.Buckets[b].Count)
	if b > 0 {
		start = h.Buckets[b-1].UpperBound
		inBucket -= float64(h.Buckets[b-1].Count)
		rank -= float64(h.Buckets[b-1].Count)
	}
	if inBucket == 0 {
		return end
	}
	return start + (end-start)*rank/inBucket
}

// QuantileBound is the upper bound of the bucket the q-quantile falls in:
// at least q of the observations took at most this long, and the histogram
// cannot say more precisely (etcd's buckets double: 1 ms … 8.192 s). It is
// +Inf when the rank lies above the largest finite bound, and 0 when the
// histogram is empty. Reports show it as "≤ bound", never as a measured
// value.
func (h Histogram) QuantileBound(q float64) float64 {
	if h.Count == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	rank := math.Max(1, math.Ceil(q*float64(h.Count)))
	b := sort.Search(len(h.Buckets), func(i int) bool { return float64(h.Buckets[i].Count) >= rank })
	if b == len(h.Buckets) {
		return math.Inf(1)
	}
	return h.Buckets[b].UpperBound
}

// Max is the upper bound of the highest bucket that received an
// observation: every observation was at most this. When some were above the
// largest finite bound it is that bound (the histogram cannot say more), and
// Overflow says how many. It is 0 when the histogram is empty.
func (h Histogram) Max() float64 {
	if h.Count == 0 || len(h.Buckets) == 0 {
		return 0
	}
	for _, b := range h.Buckets {
		if b.Count == h.Count {
			return b.UpperBound
		}
	}
	return h.Buckets[len(h.Buckets)-1].UpperBound
}

// Overflow is the number of observations above the largest finite bound.
func (h Histogram) Overflow() uint64 {
	if len(h.Buckets) == 0 {
		return h.Count
	}
	return h.Count - h.Buckets[len(h.Buckets)-1].Count
}

// Sub returns the observations h holds that earlier did not: the histogram
// of the window between two scrapes of the same member. When h has fewer
// observations than earlier, or its buckets differ, the member restarted in
// between (its histograms started again from zero) and Sub returns h, as
// Prometheus' increase() treats a counter reset.
func (h Histogram) Sub(earlier Histogram) Histogram {
	if h.Count < earlier.Count || !sameBounds(h, earlier) {
		return h
	}
	out := Histogram{Count: h.Count - earlier.Count, Sum: h.Sum - earlier.Sum}
	for i, b := range h.Buckets {
		if b.Count < earlier.Buckets[i].Count {
			return h
		}
		out.Buckets = append(out.Buckets, Bucket{UpperBound: b.UpperBound, Count: b.Count - earlier.Buckets[i].Count})
	}
	return out
}

// Add returns the observations of both histograms together, e.g. every
// member's WAL fsyncs in one distribution. Histograms with different
// buckets cannot be merged; Add then returns h unchanged and false. An empty
// histogram adds to anything.
func (h Histogram) Add(other Histogram) (Histogram, bool) {
	switch {
	case len(other.Buckets) == 0 && other.Count == 0:
		return h, true
	case len(h.Buckets) == 0 && h.Count == 0:
		return other.clone(), true
	case !sameBounds(h, other):
		return h, false
	}
	out := Histogram{Count: h.Count + other.Count, Sum: h.Sum + other.Sum}
	for i, b := range h.Buckets {
		out.Buckets = append(out.Buckets, Bucket{UpperBound: b.UpperBound, Count: b.Count + other.Buckets[i].Count})
	}
	return out, true
}

func (h Histogram) clone() Histogram {
	h.Buckets = append([]Bucket(nil), h.Buckets...)
	return h
}

func sameBounds(a, b Histogram) bool {
	if len(a.Buckets) != len(b.Buckets) {
		return false
	}
	for i := range a.Buckets {
		if a.Buckets[i].UpperBound != b.Buckets[i].UpperBound {
			return false
		}
	}
	return true
}
