package ssh

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// A handshake cut short twice (a busy host) and then answered: DialRetry
// gets through on the third attempt and runs the command.
func TestDialRetryThroughTransientFailures(t *testing.T) {
	s := startServer(t)
	cfg := s.config()
	var dials atomic.Int32
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, errors.New("connect: connection refused")
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c, err := DialRetry(t.Context(), cfg, DefaultDialAttempts)
	if err != nil {
		t.Fatalf("DialRetry: %v", err)
	}
	defer c.Close()
	if out, _, err := c.Run(t.Context(), "echo hi"); err != nil || string(out) != "hi\n" {
		t.Errorf("Run = %q, %v", out, err)
	}
	if n := dials.Load(); n != 3 {
		t.Errorf("dialled %d times, want 3", n)
	}
}

func TestDialRetryGivesUp(t *testing.T) {
	s := startServer(t)
	cfg := s.config()
	var dials atomic.Int32
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return nil, errors.New("connect: connection refused")
	}
	_, err := DialRetry(t.Context(), cfg, 2)
	if err == nil || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Errorf("DialRetry = %v, want a failure after 2 attempts", err)
	}
	if n := dials.Load(); n != 2 {
		t.Errorf("dialled %d times, want 2", n)
	}
}

// A wrong host key or a refused login is final: retrying would only hide it.
func TestDialRetryFinalErrors(t *testing.T) {
	s := startServer(t)
	for name, change := range map[string]func(*Config){
		"host key": func(c *Config) { c.HostKey = newSigner(t, "ed25519").PublicKey() },
		"user key": func(c *Config) { c.Signer = newSigner(t, "ed25519") },
	} {
		cfg := s.config()
		change(&cfg)
		var dials atomic.Int32
		cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
		if _, err := DialRetry(t.Context(), cfg, DefaultDialAttempts); err == nil || Transient(err) {
			t.Errorf("%s: DialRetry = %v, want a final error", name, err)
		}
		if n := dials.Load(); n != 1 {
			t.Errorf("%s: dialled %d times, want 1", name, n)
		}
	}
}
