package ssh

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// The pool dials a node once for many commands, dials again when the kept
// connection no longer answers or was dropped, and dials nodes in parallel
// only once each.
func TestPoolKeepsOneLiveConnectionPerNode(t *testing.T) {
	s := startServer(t)
	cfg := s.config()
	var dials atomic.Int32
	var last net.Conn
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		last = c
		return c, err
	}
	var p Pool
	defer p.Close()
	ctx := t.Context()
	run := func() *Client {
		t.Helper()
		c, err := p.Get(ctx, cfg, 1)
		if err != nil {
			t.Fatal(err)
		}
		if out, _, err := c.Run(ctx, "echo hi"); err != nil || string(out) != "hi\n" {
			t.Fatalf("Run = %q, %v", out, err)
		}
		return c
	}
	first := run()
	for range 3 {
		if c := run(); c != first {
			t.Error("a live connection was not reused")
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("4 commands dialled %d times, want 1", n)
	}

	// The guest rebooted: the kept connection gets no answer.
	last.Close()
	if c := run(); c == first {
		t.Error("a dead connection was handed out")
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("after the connection died: %d dials, want 2", n)
	}

	c := run()
	p.Drop(c)
	run()
	if n := dials.Load(); n != 3 {
		t.Errorf("after Drop: %d dials, want 3", n)
	}

	// Three callers at once on a fresh pool: one dial.
	var q Pool
	defer q.Close()
	dials.Store(0)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := q.Get(ctx, cfg, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := dials.Load(); n != 1 {
		t.Errorf("three concurrent Gets dialled %d times, want 1", n)
	}
}

// A command that exits with a status leaves the connection as it was; any
// other failure may have broken it.
func TestBroken(t *testing.T) {
	s := startServer(t)
	var p Pool
	defer p.Close()
	c, err := p.Get(t.Context(), s.config(), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Run(t.Context(), "exit 3")
	if err == nil || Broken(err) {
		t.Errorf("exit 3: %v; Broken = %v, want a command failure", err, Broken(err))
	}
	c.Close()
	_, _, err = c.Run(t.Context(), "true")
	if err == nil || !Broken(err) {
		t.Errorf("on a closed connection: %v; Broken = %v, want true", err, Broken(err))
	}
	if Broken(nil) || !Broken(errors.New("EOF")) {
		t.Error("Broken(nil) or Broken(EOF) is wrong")
	}
}
