package etcd_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/etcd/etcdtest"
)

// TestCheckPerf runs check perf for real against a one-member embedded
// cluster with mutual TLS, shortened to a few seconds.
func TestCheckPerf(t *testing.T) {
	cl := etcdtest.Start(t, "m0")
	c, err := etcd.New(t.Context(), etcd.ClientConfig{Endpoints: cl.ClientURLs, TLS: cl.PKI.ClientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := etcd.LookupPerfLoad("s")
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
		_, err := c.CheckPerf(t.Context(), etcd.PerfOptions{Load: s, Prefix: "/taken/", Duration: time.Second})
		if !errors.Is(err, etcd.ErrPrefixHasKeys) || !strings.Contains(err.Error(), "etcdctl del --prefix /taken/") {
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
		r, err := c.CheckPerf(t.Context(), etcd.PerfOptions{Load: s, Prefix: "/perf/", Duration: duration, Progress: func(done, total int) {
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
		for _, k := range []string{"load", "prefix", "requests", "errors", "throughput", "slowest_s", "average_s", "stddev_s", "elapsed_s", "deleted", "checks", "pass"} {
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
		_, err := c.CheckPerf(ctx, etcd.PerfOptions{Load: s, Prefix: "/cancelled/", Duration: time.Minute})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's deadline", err)
		}
		if n := keys("/cancelled/"); n != 0 {
			t.Fatalf("%d keys left under /cancelled/", n)
		}
	})
}
