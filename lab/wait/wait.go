package wait

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kthw-lab/lab/progress"
)

// Condition is something worth waiting for, with the name a person reads in
// progress lines and errors ("ssh on k8smaster1").
type Condition struct {
	// Name says what is awaited; it completes "waiting for ...".
	Name string
	// Check returns nil once the condition holds and otherwise an error
	// saying why not yet. It should return promptly when ctx is done.
	Check func(ctx context.Context) error
}

// DefaultInterval is the pause between checks used by All.
const DefaultInterval = time.Second

// TimeoutError is returned when a condition did not hold before its deadline.
// It unwraps to context.DeadlineExceeded and to the last error the check
// returned, so both errors.Is(err, context.DeadlineExceeded) and errors.As on
// the check's own error types work.
type TimeoutError struct {
	Name    string
	Timeout time.Duration
	// Last is the last error the check returned; nil if it never returned.
	Last error
}

func (e *TimeoutError) Error() string {
	if e.Last == nil {
		return fmt.Sprintf("waiting for %s: timed out after %s", e.Name, e.Timeout)
	}
	return fmt.Sprintf("waiting for %s: timed out after %s: last error: %v", e.Name, e.Timeout, e.Last)
}

// Unwrap returns context.DeadlineExceeded and the last error.
func (e *TimeoutError) Unwrap() []error {
	if e.Last == nil {
		return []error{context.DeadlineExceeded}
	}
	return []error{context.DeadlineExceeded, e.Last}
}

// Until checks c every interval until the check passes, timeout passes, or
// ctx is done. It prints "• waiting for NAME ..." and a matching end line on
// status, and off a terminal at most every 30 s a "still waiting" line; the
// attempts' errors (no route to host while a VM boots) are expected and
// shown only in the end line of a wait that fails.
// When ctx is cancelled (Ctrl-C) it returns promptly with ctx's error.
func Until(ctx context.Context, status *progress.Printer, c Condition, timeout, interval time.Duration) (err error) {
	task := status.Task("waiting for %s", c.Name)
	defer func() { task.End(err) }()

	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var last error
	for {
		checkErr := c.Check(wctx)
		if checkErr == nil {
			return nil
		}
		if p, ok := errors.AsType[*permanentError](checkErr); ok {
			return fmt.Errorf("waiting for %s: %w", c.Name, p.err)
		}
		// An attempt cut short by the deadline usually just says "context
		// deadline exceeded"; the error before it is the informative one.
		if wctx.Err() == nil || last == nil {
			last = checkErr
		}
		task.Retry(last)

		timer := time.NewTimer(interval)
		select {
		case <-wctx.Done():
			timer.Stop()
			return stopped(ctx, c, timeout, last)
		case <-timer.C:
		}
	}
}

// Permanent marks a check's error as final: waiting longer cannot help (a
// boot that failed, a wrong host key), so Until returns it at once.
func Permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// stopped builds the error for a wait that ended before its condition held:
// either our own deadline passed or the caller's ctx ended.
func stopped(ctx context.Context, c Condition, timeout time.Duration, last error) error {
	if ctx.Err() != nil {
		cause := context.Cause(ctx)
		if last == nil || errors.Is(last, cause) {
			return fmt.Errorf("waiting for %s: %w", c.Name, cause)
		}
		return fmt.Errorf("waiting for %s: %w (last error: %w)", c.Name, cause, last)
	}
	return &TimeoutError{Name: c.Name, Timeout: timeout, Last: last}
}

// All waits for every condition in parallel, each with its own timeout, and
// returns the failures joined in the order the conditions were given. It does
// not stop the other waits when one fails, so the error lists everything
// that did not come up.
func All(ctx context.Context, status *progress.Printer, timeout time.Duration, conds ...Condition) error {
	errs := make([]error, len(conds))
	var wg sync.WaitGroup
	for i, c := range conds {
		wg.Go(func() {
			errs[i] = Until(ctx, status, c, timeout, DefaultInterval)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
