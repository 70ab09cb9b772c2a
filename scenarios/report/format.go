package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kthw-lab/lab/scenarios/measure"
)

// formatDuration writes d for a person with at most three significant
// digits: "0.42 ms", "8 ms", "123 ms", "1.12 s", "31.2 s", "312 s".
// A figure that does not exist (measure.None) is "none".
func formatDuration[D ~int64](dd D) string {
	d := time.Duration(dd)
	switch {
	case d < 0:
		return "none"
	case d == 0:
		return "0 s"
	case d < time.Second && significant(float64(d)/float64(time.Millisecond)) != "1000":
		return significant(float64(d)/float64(time.Millisecond)) + " ms"
	default:
		return significant(d.Seconds()) + " s"
	}
}

// significant formats v with at most three significant digits, without
// exponent or trailing zeros.
func significant(v float64) string {
	if v == 0 {
		return "0"
	}
	digits := 2 - int(math.Floor(math.Log10(math.Abs(v))))
	if digits < 0 {
		digits = 0
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	// Rounding can carry into one more digit (9.996 → "10.00").
	if strings.Contains(s, ".") && len(strings.TrimLeft(strings.ReplaceAll(s, ".", ""), "0-")) > 3 {
		s = strconv.FormatFloat(v, 'f', max(digits-1, 0), 64)
	}
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatTimeout writes a raft timeout in milliseconds, as etcd's flags take it.
func formatTimeout[D ~int64](d D) string {
	if d <= 0 {
		return "–"
	}
	return strconv.FormatInt(time.Duration(d).Milliseconds(), 10) + " ms"
}

// orDash writes "–" for a measurement that is missing (zero or
// measure.None).
func orDash[D ~int64](d D) string {
	if d <= 0 {
		return "–"
	}
	return formatDuration(d)
}

// checkPerfCell summarises check perf: PASS or FAIL and the throughput.
func checkPerfCell(c CheckPerf) string {
	if !c.Ran {
		return "not run"
	}
	verdict := "FAIL"
	if c.Pass {
		verdict = "PASS"
	}
	return fmt.Sprintf("%s, %s w/s", verdict, significant(c.Throughput))
}

// checkPerfLatencyCell gives the two latency figures check perf judges
// (slowest request ≤ 0.5 s, stddev ≤ 0.1 s), marking those that failed.
func checkPerfLatencyCell(c CheckPerf) string {
	if !c.Ran {
		return "–"
	}
	mark := func(d, limit measure.Seconds) string {
		if d > limit {
			return formatDuration(d) + " ✗"
		}
		return formatDuration(d)
	}
	return mark(c.Slowest, measure.Seconds(500*time.Millisecond)) + " / " + mark(c.Stddev, measure.Seconds(100*time.Millisecond))
}

// putCell summarises the workload: p99 and errors out of the puts made.
func putCell(a Arm) string {
	return fmt.Sprintf("%s, %d/%d failed", orDash(a.PutP99), a.PutErrors, a.PutCount)
}

// firstLeaderCell writes the time to first leader, or "never".
func firstLeaderCell(a Arm) string {
	if !a.Elected() {
		return "never"
	}
	return formatDuration(a.TimeToFirstLeader)
}

// expectCell writes the expectation and whether the arm met it.
func expectCell(a Arm) string {
	switch got := Outcome(a); {
	case a.Expect == "":
		return "–"
	case a.Expect == got:
		return a.Expect + " ✓"
	default:
		return a.Expect + " ✗ (" + got + ")"
	}
}

// sortedSamples returns the samples in time order, ties by member name.
func sortedSamples(samples []Sample) []Sample {
	out := slices.Clone(samples)
	slices.SortStableFunc(out, func(a, b Sample) int {
		return cmp.Or(cmp.Compare(a.At, b.At), cmp.Compare(a.Member, b.Member))
	})
	return out
}
