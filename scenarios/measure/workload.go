package measure

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// PutFunc writes one key, e.g. through clientv3.
type PutFunc func(ctx context.Context, key, value string) error

// Workload is a steady stream of puts, the writes a control plane makes
// while the arm runs. It is open-loop: puts start on schedule whether or not
// the earlier ones have finished, so a stalled cluster shows as latency
// rather than as fewer requests.
type Workload struct {
	Put PutFunc
	// Rate is puts started per second; 10 when zero.
	Rate float64
	// Timeout bounds each put; 5 s when zero.
	Timeout time.Duration
	// Start is the arm's start, which Request.At counts from; when zero,
	// the moment Run begins.
	Start time.Time
	// KeyPrefix starts every key; "lab-workload/" when empty. Keys are the
	// prefix and a sequence number.
	KeyPrefix string
	// ValueSize is the length of each value in bytes; 256 when zero.
	ValueSize int
}

// WithDefaults returns w with its zero fields set to their defaults.
func (w Workload) WithDefaults() Workload {
	if w.Rate <= 0 {
		w.Rate = 10
	}
	if w.Timeout <= 0 {
		w.Timeout = 5 * time.Second
	}
	if w.KeyPrefix == "" {
		w.KeyPrefix = "lab-workload/"
	}
	if w.ValueSize <= 0 {
		w.ValueSize = 256
	}
	return w
}

// Request is one put.
type Request struct {
	// At is when it started, from the arm's start.
	At      time.Duration
	Key     string
	Latency time.Duration
	Err     error
}

// Run puts until ctx is done, then waits for the puts in flight (each
// bounded by Timeout, and not cut short by ctx: their latency is the
// measurement) and returns every request in the order started.
func (w Workload) Run(ctx context.Context) Requests {
	w = w.WithDefaults()
	start := w.Start
	if start.IsZero() {
		start = time.Now()
	}
	value := strings.Repeat("x", w.ValueSize)
	tick := time.NewTicker(time.Duration(float64(time.Second) / w.Rate))
	defer tick.Stop()

	var (
		mu  sync.Mutex
		out Requests
		wg  sync.WaitGroup
	)
	detached := context.WithoutCancel(ctx)
	for n := 0; ctx.Err() == nil; n++ {
		req := Request{At: time.Since(start), Key: fmt.Sprintf("%s%08d", w.KeyPrefix, n)}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(detached, w.Timeout)
			defer cancel()
			began := time.Now()
			req.Err = w.Put(ctx, req.Key, value)
			req.Latency = time.Since(began)
			mu.Lock()
			out = append(out, req)
			mu.Unlock()
		})
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	wg.Wait()
	slices.SortFunc(out, func(a, b Request) int { return cmp.Compare(a.At, b.At) })
	return out
}

// Requests are the puts of a workload.
type Requests []Request

// RequestStats summarises requests.
type RequestStats struct {
	Count  int
	Errors int
	// The latencies are over every request, failed ones included at the
	// time they took to fail (a timeout is what the client saw).
	P50, P99, Max time.Duration
	// ErrorMessages counts the failures by their innermost error's message.
	ErrorMessages map[string]int
}

// Stats counts the requests and errors and takes the latency quantiles.
func (r Requests) Stats() RequestStats {
	s := RequestStats{Count: len(r)}
	latencies := make([]time.Duration, 0, len(r))
	for _, req := range r {
		latencies = append(latencies, req.Latency)
		if req.Err != nil {
			s.Errors++
			if s.ErrorMessages == nil {
				s.ErrorMessages = map[string]int{}
			}
			s.ErrorMessages[rootCause(req.Err).Error()]++
		}
	}
	slices.Sort(latencies)
	s.P50, s.P99 = nearestRank(latencies, 0.5), nearestRank(latencies, 0.99)
	if len(latencies) > 0 {
		s.Max = latencies[len(latencies)-1]
	}
	return s
}

// nearestRank is the q-quantile of sorted values: the smallest value with
// at least q of the values at or below it.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func rootCause(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}
