package slowdisk

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
)

// TestLazyClientNeverBlocks: while no member serves clients, callers get
// errNotServing at once, one dial runs at a time, a failed dial is retried
// on the next call, and nothing dials after Close.
func TestLazyClientNeverBlocks(t *testing.T) {
	var dials atomic.Int32
	release := make(chan struct{})
	l := &lazyClient{dial: func() (*etcd.Client, error) {
		dials.Add(1)
		<-release
		return nil, errors.New("context deadline exceeded")
	}}
	began := time.Now()
	for range 5 {
		if c, err := l.get(); c != nil || !errors.Is(err, errNotServing) {
			t.Fatalf("get = %v, %v; want errNotServing", c, err)
		}
	}
	if time.Since(began) > time.Second {
		t.Errorf("get blocked on the dial")
	}
	close(release)
	waitFor(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return !l.dialing })
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d dials while one was running, want 1", n)
	}
	l.get()
	waitFor(t, func() bool { return dials.Load() == 2 })
	waitFor(t, func() bool { l.mu.Lock(); defer l.mu.Unlock(); return !l.dialing })
	l.Close()
	if _, err := l.get(); !errors.Is(err, errNotServing) {
		t.Fatalf("get after Close = %v", err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := dials.Load(); n != 2 {
		t.Errorf("dialled after Close (%d dials)", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 5s")
}
