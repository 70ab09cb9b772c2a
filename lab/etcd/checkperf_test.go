package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kthw-lab/lab/lab/etcd/etcdtest"
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

// TestPerfLoadsAreEtcdctls reads etcdctl's own check.go from the module
// cache, at the version go.mod pins, so the table cannot drift from it.
func TestPerfLoadsAreEtcdctls(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-m", "-f", "{{.Dir}}", "go.etcd.io/etcd/etcdctl/v3").Output()
	if err != nil {
		t.Fatalf("locating etcdctl's module: %v", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), "ctlv3", "command", "check.go")
	f, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []PerfLoad
	ksize, vsize := 0, 0
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			// check datascale has sizes of its own.
			return n.Name.Name == "newCheckPerfCommand"
		case *ast.ValueSpec:
			if n.Names[0].Name != "checkPerfCfgMap" {
				return true
			}
			for _, e := range n.Values[0].(*ast.CompositeLit).Elts {
				kv := e.(*ast.KeyValueExpr)
				name, _ := strconv.Unquote(kv.Key.(*ast.BasicLit).Value)
				fields := map[string]int{}
				for _, fe := range kv.Value.(*ast.CompositeLit).Elts {
					fkv := fe.(*ast.KeyValueExpr)
					fields[fkv.Key.(*ast.Ident).Name], _ = strconv.Atoi(fkv.Value.(*ast.BasicLit).Value)
				}
				want = append(want, PerfLoad{Name: name, Limit: fields["limit"], Clients: fields["clients"], Duration: time.Duration(fields["duration"]) * time.Second})
			}
		case *ast.AssignStmt:
			if len(n.Lhs) == 2 && n.Lhs[0].(*ast.Ident).Name == "ksize" && n.Lhs[1].(*ast.Ident).Name == "vsize" {
				ksize, _ = strconv.Atoi(n.Rhs[0].(*ast.BasicLit).Value)
				vsize, _ = strconv.Atoi(n.Rhs[1].(*ast.BasicLit).Value)
			}
		}
		return true
	})
	if len(want) == 0 || ksize == 0 || vsize == 0 {
		t.Fatalf("did not find checkPerfCfgMap and ksize, vsize in %s", src)
	}
	for i := range want {
		want[i].KeySize, want[i].ValueSize = ksize, vsize
	}
	got := PerfLoads()
	byName := func(a, b PerfLoad) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(want, byName)
	slices.SortFunc(got, byName)
	if !slices.Equal(got, want) {
		t.Fatalf("PerfLoads() = %+v\netcdctl (%s) = %+v", got, src, want)
	}
	// And the numbers as read by hand from etcdctl v3.6.16, in case the
	// parse above ever finds nothing to compare.
	s, _ := LookupPerfLoad("s")
	if s != (PerfLoad{Name: "s", Clients: 50, Limit: 150, KeySize: 256, ValueSize: 1024, Duration: time.Minute}) {
		t.Fatalf("load s = %+v", s)
	}
}

// TestCheckPerf runs check perf for real against a one-member embedded
// cluster with mutual TLS, shortened to a few seconds.
func TestCheckPerf(t *testing.T) {
	cl := etcdtest.Start(t, "m0")
	c, err := New(t.Context(), ClientConfig{Endpoints: cl.ClientURLs, TLS: cl.PKI.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := LookupPerfLoad("s")
	keys := func(prefix string) int64 {
		t.Helper()
		resp, err := c.V3().Get(t.Context(), prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}

	t.Run("refuses a prefix that has keys and leaves them", func(t *testing.T) {
		if _, err := c.V3().Put(t.Context(), "/taken/mine", "keep"); err != nil {
			t.Fatal(err)
		}
		_, err := c.CheckPerf(t.Context(), PerfOptions{Load: s, Prefix: "/taken/", Duration: time.Second})
		if !errors.Is(err, ErrPrefixHasKeys) || !strings.Contains(err.Error(), "etcdctl del --prefix /taken/") {
			t.Fatalf("err = %v, want ErrPrefixHasKeys with the command that clears it", err)
		}
		if n := keys("/taken/"); n != 1 {
			t.Fatalf("%d keys under /taken/ after the refusal, want the 1 that was there", n)
		}
	})

	t.Run("runs, deletes its keys, marshals", func(t *testing.T) {
		var mu sync.Mutex
		var progress [][2]int
		const duration = 3 * time.Second
		r, err := c.CheckPerf(t.Context(), PerfOptions{Load: s, Prefix: "/perf/", Duration: duration, Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, [2]int{done, total})
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d requests in %s: %.1f writes/s, slowest %s, average %s, stddev %s; %s",
			r.Requests, r.Elapsed, r.Throughput, r.Slowest, r.Average, r.Stddev, strings.Join(r.Lines(), " | "))
		// The limiter (150/s, burst 1) allows one put at once and one every
		// 1/150 s after: at most 451 in 3 s.
		if r.Requests == 0 || r.Requests > 1+150*3 || r.Errors != 0 {
			t.Fatalf("requests %d, errors %d (%v); want 1..451 without errors", r.Requests, r.Errors, r.ErrorDist)
		}
		if r.Elapsed < duration-100*time.Millisecond || r.Slowest <= 0 || r.Average <= 0 || r.Average > r.Slowest {
			t.Fatalf("elapsed %s slowest %s average %s", r.Elapsed, r.Slowest, r.Average)
		}
		if r.Deleted != int64(r.Requests) || r.CleanupError != "" {
			t.Fatalf("deleted %d keys (cleanup error %q), want the %d written", r.Deleted, r.CleanupError, r.Requests)
		}
		if n := keys("/perf/"); n != 0 {
			t.Fatalf("%d keys left under /perf/", n)
		}
		if first, last := progress[0], progress[len(progress)-1]; first != [2]int{0, 3} || last != [2]int{3, 3} || len(progress) < 3 {
			t.Fatalf("progress calls %v, want (0,3) ... (3,3)", progress)
		}

		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"load", "prefix", "requests", "errors", "throughput", "slowest", "average", "stddev", "elapsed", "deleted", "checks", "pass"} {
			if _, ok := back[k]; !ok {
				t.Errorf("JSON %s lacks %q", b, k)
			}
		}
		if back["load"] != "s" || back["requests"] != float64(r.Requests) || len(back["checks"].([]any)) != 4 {
			t.Errorf("JSON %s", b)
		}
	})

	t.Run("deletes its keys when cancelled", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		_, err := c.CheckPerf(ctx, PerfOptions{Load: s, Prefix: "/cancelled/", Duration: time.Minute})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's deadline", err)
		}
		if n := keys("/cancelled/"); n != 0 {
			t.Fatalf("%d keys left under /cancelled/", n)
		}
	})
}
