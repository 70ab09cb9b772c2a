package etcd

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// same returns n latencies of d each.
func same(n int, d time.Duration) []time.Duration {
	lats := make([]time.Duration, n)
	for i := range lats {
		lats[i] = d
	}
	return lats
}

func TestJudge(t *testing.T) {
	s, err := LookupPerfLoad("s")
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	// Half the puts at 0, half at 2×h: mean h, population stddev exactly h.
	spread := func(h time.Duration) []time.Duration {
		return append(same(75, 0), same(75, 2*h)...)
	}
	for _, tc := range []struct {
		name    string
		lats    []time.Duration
		errs    map[string]int
		elapsed time.Duration
		fail    []string // the checks that must fail; the others must pass
		lines   []string // etcdctl's lines, when the test pins them
	}{
		{
			name: "all pass", lats: same(150, 10*ms), elapsed: time.Second,
			lines: []string{"PASS: Throughput is 151 writes/s", "PASS: Slowest request took 0.010000s", "PASS: Stddev is 0.000000s", "PASS"},
		},
		{
			// 135/150 is exactly 0.9: etcdctl fails it (rate/limit <= 0.9).
			name: "throughput at 90 percent fails", lats: same(135, 10*ms), elapsed: time.Second, fail: []string{"throughput"},
			lines: []string{"FAIL: Throughput too low: 136 writes/s", "PASS: Slowest request took 0.010000s", "PASS: Stddev is 0.000000s", "FAIL"},
		},
		{name: "throughput just above 90 percent passes", lats: same(136, 10*ms), elapsed: time.Second},
		{name: "throughput over a longer run", lats: same(150*60, 10*ms), elapsed: 67 * time.Second, fail: []string{"throughput"}},
		{name: "slowest at 0.5 s passes", lats: append(same(149, 10*ms), 500*ms), elapsed: time.Second},
		{
			name: "slowest over 0.5 s fails", lats: append(same(149, 10*ms), 500*ms+time.Microsecond), elapsed: time.Second, fail: []string{"slowest"},
			lines: []string{"PASS: Throughput is 151 writes/s", "Slowest request took too long: 0.500001s", "PASS: Stddev is 0.039875s", "FAIL"},
		},
		{name: "stddev just under 0.1 s passes", lats: spread(99 * ms), elapsed: time.Second},
		{
			name: "stddev over 0.1 s fails", lats: spread(101 * ms), elapsed: time.Second, fail: []string{"stddev"},
			lines: []string{"PASS: Throughput is 151 writes/s", "PASS: Slowest request took 0.202000s", "Stddev too high: 0.101000s", "FAIL"},
		},
		{
			name: "errors fail", lats: same(150, 10*ms), elapsed: time.Second, fail: []string{"errors"},
			errs: map[string]int{"etcdserver: request timed out": 3, "context canceled": 1},
			lines: []string{"FAIL: too many errors", "FAIL: ERROR(context canceled) -> 1", "FAIL: ERROR(etcdserver: request timed out) -> 3",
				"PASS: Throughput is 151 writes/s", "PASS: Slowest request took 0.010000s", "PASS: Stddev is 0.000000s", "FAIL"},
		},
		{
			name: "nothing succeeded", errs: map[string]int{"etcdserver: no leader": 150}, elapsed: time.Second, fail: []string{"errors", "throughput"},
			lines: []string{"FAIL: too many errors", "FAIL: ERROR(etcdserver: no leader) -> 150", "FAIL: Throughput too low: 1 writes/s",
				"PASS: Slowest request took 0.000000s", "PASS: Stddev is 0.000000s", "FAIL"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Judge(tc.lats, tc.errs, s, tc.elapsed)
			if len(r.Checks) != 4 {
				t.Fatalf("checks = %+v, want errors, throughput, slowest, stddev", r.Checks)
			}
			for _, c := range r.Checks {
				if want := !slices.Contains(tc.fail, c.Name); c.Pass != want {
					t.Errorf("check %s: pass = %v, want %v (%q)", c.Name, c.Pass, want, c.Line)
				}
			}
			if r.Pass != (len(tc.fail) == 0) {
				t.Errorf("pass = %v, want %v", r.Pass, len(tc.fail) == 0)
			}
			if tc.lines != nil && !slices.Equal(r.Lines(), tc.lines) {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(r.Lines(), "\n"), strings.Join(tc.lines, "\n"))
			}
			errors := 0
			for _, n := range tc.errs {
				errors += n
			}
			if r.Errors != errors || r.Requests != len(tc.lats)+errors {
				t.Errorf("requests %d errors %d, want %d and %d", r.Requests, r.Errors, len(tc.lats)+errors, errors)
			}
		})
	}
}

func TestJudgeStatistics(t *testing.T) {
	s, _ := LookupPerfLoad("s")
	lats := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}
	r := Judge(lats, nil, s, 2*time.Second)
	// Population stddev of 0.1..0.4 is sqrt(0.0125) = 0.111803 s.
	if r.Throughput != 2 || r.Slowest != 400*time.Millisecond || r.Average != 250*time.Millisecond || r.Stddev != 111803399*time.Nanosecond {
		t.Fatalf("throughput %v slowest %v average %v stddev %v", r.Throughput, r.Slowest, r.Average, r.Stddev)
	}
	if r := Judge(lats, nil, s, 0); r.Throughput != 0 || r.Pass {
		t.Fatalf("a run of no time: throughput %v, pass %v", r.Throughput, r.Pass)
	}
}

func TestLookupPerfLoad(t *testing.T) {
	for name, want := range map[string]string{"s": "s", "small": "s", "m": "m", "medium": "m", "l": "l", "large": "l", "xl": "xl", "xLarge": "xl"} {
		l, err := LookupPerfLoad(name)
		if err != nil || l.Name != want {
			t.Errorf("LookupPerfLoad(%q) = %+v, %v; want load %s", name, l, err, want)
		}
	}
	_, err := LookupPerfLoad("bogus")
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), "s, m, l, xl") {
		t.Fatalf("LookupPerfLoad(bogus) error = %v, want one naming s, m, l, xl", err)
	}
}

// TestPrintPerf: the result is printed as etcdctl check perf prints it.
func TestPrintPerf(t *testing.T) {
	s, _ := LookupPerfLoad("s")
	lats := make([]time.Duration, 140)
	for i := range lats {
		lats[i] = 2 * time.Millisecond
	}
	r := Judge(lats, map[string]int{"etcdserver: request timed out": 2}, s, time.Second)
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	want := `FAIL: too many errors
FAIL: ERROR(etcdserver: request timed out) -> 2
PASS: Throughput is 141 writes/s
PASS: Slowest request took 0.002000s
PASS: Stddev is 0.000000s
FAIL
`
	if out.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
	if err := r.WriteText(failingWriter{}); err == nil {
		t.Fatal("WriteText ignored a write error")
	}
}

// TestPerfResultJSONLeavesEscapingToTheEncoder: etcdctl's "->" stays as it
// is for an encoder that does not escape HTML (lab's), and json.Marshal
// still escapes it; no checks are [], not null.
func TestPerfResultJSONLeavesEscapingToTheEncoder(t *testing.T) {
	r := PerfResult{Load: "s", Checks: []PerfCheck{{Name: "errors", Line: "FAIL: ERROR(x) -> 2"}}}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil || !strings.Contains(b.String(), `"FAIL: ERROR(x) -> 2"`) {
		t.Fatalf("unescaped encoder wrote %s, %v", b.String(), err)
	}
	escaped, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(escaped), `-\u003e 2`) {
		t.Fatalf("json.Marshal wrote %s, %v", escaped, err)
	}
	empty, err := json.Marshal(PerfResult{})
	if err != nil || !strings.Contains(string(empty), `"checks":[]`) {
		t.Fatalf("no checks: %s, %v", empty, err)
	}
}
