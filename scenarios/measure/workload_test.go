package measure

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var errLeaderChanged = errors.New("etcdserver: leader changed")

// slowCluster is a fake put: 10 ms normally; 2 s for every tenth key (a
// slow fsync); a "leader changed" failure for keys 3, 10, 17, ...; and key
// 25 hangs until its deadline.
type slowCluster struct {
	mu     sync.Mutex
	values map[string]string
}

func (c *slowCluster) put(ctx context.Context, key, value string) error {
	var n int
	if _, err := fmt.Sscanf(key, "test/%d", &n); err != nil {
		return err
	}
	delay := 10 * time.Millisecond
	switch {
	case n == 25:
		<-ctx.Done()
		return fmt.Errorf("putting %s: %w", key, ctx.Err())
	case n%7 == 3:
		time.Sleep(delay)
		return fmt.Errorf("putting %s: %w", key, errLeaderChanged)
	case n%10 == 9:
		delay = 2 * time.Second
	}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.values[key] = value
	return nil
}

func TestWorkload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &slowCluster{values: map[string]string{}}
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(4950*time.Millisecond, cancel)
		w := Workload{Put: c.put, Rate: 10, Timeout: 3 * time.Second, Start: start, KeyPrefix: "test/", ValueSize: 16}
		reqs := w.Run(ctx)

		// Run waited for the last slow put (key 49, started at 4.9 s) to
		// finish instead of cancelling it with ctx.
		if took := time.Since(start); took != 6900*time.Millisecond {
			t.Errorf("Run returned after %s, want 6.9s", took)
		}
		if len(reqs) != 50 {
			t.Fatalf("%d requests, want 50 (10/s for 4.95 s)", len(reqs))
		}
		for i, r := range reqs {
			// Open loop: the slow puts did not delay the schedule.
			if want := time.Duration(i) * 100 * time.Millisecond; r.At != want || r.Key != fmt.Sprintf("test/%08d", i) {
				t.Errorf("request %d = %s at %s, want test/%08d at %s", i, r.Key, r.At, i, want)
			}
		}
		if r := reqs[49]; r.Err != nil || r.Latency != 2*time.Second {
			t.Errorf("last put = %+v, want done in 2s after ctx ended", r)
		}
		if r := reqs[25]; !errors.Is(r.Err, context.DeadlineExceeded) || r.Latency != 3*time.Second {
			t.Errorf("hanging put = %+v, want its 3s timeout", r)
		}
		if v := c.values["test/00000000"]; v != strings.Repeat("x", 16) {
			t.Errorf("value = %q, want 16 bytes", v)
		}

		st := reqs.Stats()
		want := RequestStats{
			Count:  50,
			Errors: 8,
			P50:    10 * time.Millisecond,
			P99:    3 * time.Second,
			Max:    3 * time.Second,
			ErrorMessages: map[string]int{
				"etcdserver: leader changed": 7,
				"context deadline exceeded":  1,
			},
		}
		if fmt.Sprint(st) != fmt.Sprint(want) {
			t.Errorf("Stats = %+v\nwant    %+v", st, want)
		}
	})
}

func TestRequestStatsQuantiles(t *testing.T) {
	var reqs Requests
	for i := 1; i <= 200; i++ {
		reqs = append(reqs, Request{Latency: time.Duration(201-i) * time.Millisecond})
	}
	st := reqs.Stats()
	if st.P50 != 100*time.Millisecond || st.P99 != 198*time.Millisecond || st.Max != 200*time.Millisecond || st.Errors != 0 {
		t.Errorf("Stats = %+v, want p50 100ms, p99 198ms, max 200ms, no errors", st)
	}
	if st := (Requests{}).Stats(); st.Count != 0 || st.P99 != 0 || st.Max != 0 || st.ErrorMessages != nil {
		t.Error("no requests must give zero stats")
	}
}
