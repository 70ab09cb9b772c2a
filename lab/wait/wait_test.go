package wait

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kthw-lab/lab/progress"
)

var errNotYet = errors.New("connection refused")

// failTimes returns a check that fails n times and then passes.
func failTimes(n int32) (func(context.Context) error, *atomic.Int32) {
	var calls atomic.Int32
	return func(context.Context) error {
		if calls.Add(1) <= n {
			return errNotYet
		}
		return nil
	}, &calls
}

func TestUntilPassesAfterRetries(t *testing.T) {
	var buf bytes.Buffer
	check, calls := failTimes(2)
	err := Until(t.Context(), progress.New(&buf, false), Condition{Name: "ssh on k8smaster1", Check: check}, time.Minute, time.Millisecond)
	if err != nil {
		t.Fatalf("Until: %v", err)
	}
	if got := calls.Load(); got != 3 {
		t.Errorf("check called %d times, want 3", got)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || lines[0] != "• waiting for ssh on k8smaster1 ..." || !strings.HasPrefix(lines[1], "✓ waiting for ssh on k8smaster1 (") {
		t.Errorf("progress lines = %q", lines)
	}
}

func TestUntilTimeoutNamesConditionAndLastError(t *testing.T) {
	var buf bytes.Buffer
	c := Condition{Name: "etcd quorum", Check: func(context.Context) error { return errNotYet }}
	err := Until(t.Context(), progress.New(&buf, false), c, 30*time.Millisecond, time.Millisecond)
	if err == nil {
		t.Fatal("Until succeeded on a check that always fails")
	}
	want := "waiting for etcd quorum: timed out after 30ms: last error: connection refused"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("errors.Is(err, context.DeadlineExceeded) = false")
	}
	if !errors.Is(err, errNotYet) {
		t.Error("errors.Is(err, last error) = false")
	}
	var te *TimeoutError
	if !errors.As(err, &te) || te.Name != "etcd quorum" || te.Timeout != 30*time.Millisecond {
		t.Errorf("errors.As TimeoutError = %+v", te)
	}
	if !strings.Contains(buf.String(), "✗ waiting for etcd quorum (") || !strings.Contains(buf.String(), want) {
		t.Errorf("progress does not show the failure:\n%s", buf.String())
	}
}

func TestUntilKeepsErrorFromBeforeDeadline(t *testing.T) {
	var calls atomic.Int32
	c := Condition{Name: "x", Check: func(ctx context.Context) error {
		if calls.Add(1) == 1 {
			return errNotYet
		}
		<-ctx.Done() // a hung attempt, cut off by the deadline
		return ctx.Err()
	}}
	err := Until(t.Context(), nil, c, 30*time.Millisecond, time.Millisecond)
	if !errors.Is(err, errNotYet) {
		t.Fatalf("error = %v, want the last informative error %v", err, errNotYet)
	}
}

func TestUntilHungFirstAttempt(t *testing.T) {
	c := Condition{Name: "x", Check: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	err := Until(t.Context(), nil, c, 20*time.Millisecond, time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want deadline exceeded", err)
	}
}

// TestUntilHidesAttemptErrors: the attempts' errors of a wait that comes
// up are not shown; those of one that fails are, once, in its end line.
// (How often "still waiting" is printed is lab/progress's, under a fake
// clock there.)
func TestUntilHidesAttemptErrors(t *testing.T) {
	var buf bytes.Buffer
	check, _ := failTimes(3)
	c := Condition{Name: "cloud-init on k8smaster0", Check: check}
	if err := Until(t.Context(), progress.New(&buf, false), c, time.Minute, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "connection refused") || !strings.Contains(buf.String(), "✓ waiting for cloud-init on k8smaster0 (") {
		t.Errorf("a wait that came up:\n%s", buf.String())
	}
	buf.Reset()
	check, _ = failTimes(1000)
	err := Until(t.Context(), progress.New(&buf, false), Condition{Name: "ssh on k8smaster0", Check: check}, 50*time.Millisecond, time.Millisecond)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if err == nil || strings.Count(buf.String(), "connection refused") != 1 || !strings.HasPrefix(lines[len(lines)-1], "✗ waiting for ssh on k8smaster0") ||
		!strings.Contains(lines[len(lines)-1], "connection refused") {
		t.Errorf("a wait that failed (%v):\n%s", err, buf.String())
	}
}

func TestUntilQuietBetweenReports(t *testing.T) {
	var buf bytes.Buffer
	check, _ := failTimes(5)
	if err := Until(t.Context(), progress.New(&buf, false), Condition{Name: "x", Check: check}, time.Minute, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "still waiting") {
		t.Errorf("a wait shorter than the report period printed a still-waiting line:\n%s", buf.String())
	}
}

func TestUntilHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	started := make(chan struct{})
	c := Condition{Name: "x", Check: func(ctx context.Context) error {
		select {
		case started <- struct{}{}:
		default:
		}
		return errNotYet
	}}
	done := make(chan error, 1)
	go func() { done <- Until(ctx, nil, c, time.Hour, time.Hour) }()
	<-started
	cancel()
	err := <-done // a wait that ignored cancel would block for an hour
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		t.Errorf("a cancelled wait reported a timeout: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "waiting for x: context canceled") || !errors.Is(err, errNotYet) {
		t.Errorf("error = %q, want the name, the cause and the last error", err)
	}
}

func TestAllWaitsInParallelAndJoins(t *testing.T) {
	// a passes only once b has started: waiting one after the other would
	// time out on a.
	bStarted := make(chan struct{})
	a := Condition{Name: "a", Check: func(ctx context.Context) error {
		select {
		case <-bStarted:
			return nil
		default:
			return errNotYet
		}
	}}
	var once atomic.Bool
	b := Condition{Name: "b", Check: func(context.Context) error {
		if once.CompareAndSwap(false, true) {
			close(bStarted)
		}
		return nil
	}}
	if err := All(t.Context(), nil, 5*time.Second, a, b); err != nil {
		t.Fatalf("All: %v", err)
	}

	never := Condition{Name: "never", Check: func(context.Context) error { return errNotYet }}
	ok := Condition{Name: "ok", Check: func(context.Context) error { return nil }}
	err := All(t.Context(), nil, 20*time.Millisecond, ok, never, never)
	if err == nil {
		t.Fatal("All succeeded with failing conditions")
	}
	if n := strings.Count(err.Error(), "waiting for never: timed out"); n != 2 || strings.Contains(err.Error(), "waiting for ok") {
		t.Errorf("joined error = %q, want two failures of never and none of ok", err)
	}
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("joined error does not unwrap to the timeouts: %v", err)
	}
}

func TestPermanentErrorEndsTheWaitAtOnce(t *testing.T) {
	boom := errors.New("cloud-init failed")
	calls := 0
	err := Until(t.Context(), nil, Condition{Name: "boot", Check: func(context.Context) error {
		calls++
		return Permanent(boom)
	}}, time.Hour, time.Millisecond)
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err = %v after %d checks, want %v after 1", err, calls, boom)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a permanent error is not a timeout: %v", err)
	}
}
