package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"

	"github.com/kthw-lab/lab/lab/wait"
	"github.com/kthw-lab/lab/progress"
)

func dial(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := Dial(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRunWithPinnedKey(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.config())
	out, errOut, err := c.Run(t.Context(), "echo hello world")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if string(out) != "hello world\n" || len(errOut) != 0 {
		t.Errorf("Run = %q, %q", out, errOut)
	}
}

// The server also offers an ECDSA key, which x/crypto/ssh would prefer; the
// client must ask for the pinned key's type.
func TestPinnedKeyOfEitherType(t *testing.T) {
	s := startServer(t)
	for _, hk := range s.HostKeys {
		cfg := s.config()
		cfg.HostKey = hk.PublicKey()
		dial(t, cfg)
	}
}

func TestWrongHostKeyRefused(t *testing.T) {
	s := startServer(t)
	cfg := s.config()
	impostor := newSigner(t, "ed25519").PublicKey()
	cfg.HostKey = impostor
	c, err := Dial(t.Context(), cfg)
	if err == nil {
		c.Close()
		t.Fatal("Dial accepted a host key other than the pinned one")
	}
	want := "host key mismatch for k8smaster1: got " + xssh.FingerprintSHA256(s.HostKeys[0].PublicKey()) +
		", want " + xssh.FingerprintSHA256(impostor)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
	var hk *HostKeyError
	if !errors.As(err, &hk) || hk.Host != "k8smaster1" {
		t.Errorf("errors.As HostKeyError = %v", hk)
	}
}

func TestWrongUserKeyRefused(t *testing.T) {
	s := startServer(t)
	cfg := s.config()
	cfg.Signer = newSigner(t, "ed25519")
	if _, err := Dial(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("Dial with an unknown user key: %v", err)
	}
}

func TestDialValidatesConfig(t *testing.T) {
	_, err := Dial(t.Context(), Config{Name: "k8smaster0", Addr: "127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "no pinned host key") || !strings.Contains(err.Error(), "dialing ssh k8smaster0") {
		t.Fatalf("Dial without keys: %v", err)
	}
}

func TestRemoteExitStatus(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.config())
	_, errOut, err := c.Run(t.Context(), "exit 3")
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("Run(exit 3) error = %v, want *RemoteError", err)
	}
	if re.ExitStatus != 3 || re.Cmd != "exit 3" || re.Host != "k8smaster1" || re.Stderr != "failing\n" {
		t.Errorf("RemoteError = %+v", re)
	}
	if string(errOut) != "failing\n" {
		t.Errorf("stderr = %q", errOut)
	}
	if want := `running "exit 3" on k8smaster1: exit status 3: failing`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestStream(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.config())
	var out, errOut bytes.Buffer
	if err := c.Stream(t.Context(), "echo streamed", &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.String() != "streamed\n" {
		t.Errorf("stdout = %q", out.String())
	}
	err := c.Stream(t.Context(), "exit 42", &out, &errOut)
	var re *RemoteError
	if !errors.As(err, &re) || re.ExitStatus != 42 || errOut.String() != "failing\n" {
		t.Errorf("Stream(exit 42) = %v (stderr %q)", err, errOut.String())
	}
}

func TestCancelClosesSession(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.config())
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-s.started
		cancel()
	}()
	_, _, err := c.Run(ctx, "sleep")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run(sleep) after cancel = %v, want context.Canceled", err)
	}
	select {
	case cmd := <-s.ended:
		if cmd != "sleep" {
			t.Errorf("ended session ran %q", cmd)
		}
	case <-t.Context().Done():
		t.Fatal("the server never saw the session close")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.signals) != 1 || s.signals[0] != "KILL" {
		t.Errorf("signals = %v, want [KILL]", s.signals)
	}
	// the connection stays usable
	if _, _, err := c.Run(t.Context(), "true"); err != nil {
		t.Errorf("Run after a cancelled session: %v", err)
	}
}

func TestCancelledDialFails(t *testing.T) {
	s := startServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Dial(ctx, s.config()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial with a cancelled context = %v", err)
	}
}

func TestDialTimeoutOnSilentServer(t *testing.T) {
	// a listener that accepts and never speaks SSH
	l := startSilentListener(t)
	cfg := Config{Name: "k8smaster2", Addr: l, User: "lab", Signer: newSigner(t, "ed25519"),
		HostKey: newSigner(t, "ed25519").PublicKey(), Timeout: 50 * time.Millisecond}
	_, err := Dial(t.Context(), cfg)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "dialing ssh k8smaster2") {
		t.Fatalf("Dial to a silent server = %v, want a deadline error", err)
	}
}

func TestShell(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.config())
	var out bytes.Buffer
	if err := c.Shell(t.Context(), strings.NewReader("uptime\n"), &out, nil, false); err != nil {
		t.Fatalf("Shell: %v", err)
	}
	if out.String() != "uptime\n" {
		t.Errorf("shell output = %q", out.String())
	}
	s.mu.Lock()
	n := len(s.ptys)
	s.mu.Unlock()
	if n != 0 {
		t.Errorf("a shell without tty requested %d terminals", n)
	}

	t.Setenv("TERM", "vt220")
	out.Reset()
	if err := c.Shell(t.Context(), strings.NewReader("ls\n"), &out, nil, true); err != nil {
		t.Fatalf("Shell with tty: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ptys) != 1 {
		t.Fatalf("terminal requests = %d, want 1", len(s.ptys))
	}
	if p := s.ptys[0]; p.Term != "vt220" || p.Columns != 80 || p.Rows != 24 {
		t.Errorf("pty-req = %+v, want vt220 80x24 for a stdin that is not a terminal", p)
	}
}

func TestCondition(t *testing.T) {
	s := startServer(t)
	runsTrue := func(ctx context.Context, c *Client) error {
		_, _, err := c.Run(ctx, "true")
		return err
	}
	cond := Condition(s.config(), "ssh on k8smaster1", runsTrue)
	var lines bytes.Buffer
	if err := wait.Until(t.Context(), progress.New(&lines, false), cond, 5*time.Second, 10*time.Millisecond); err != nil {
		t.Fatalf("waiting for a reachable node: %v", err)
	}
	// The name is what the user reads while create waits.
	if !strings.Contains(lines.String(), "✓ waiting for ssh on k8smaster1 (") {
		t.Errorf("progress lines do not name the condition:\n%s", lines.String())
	}
	bad := s.config()
	bad.HostKey = newSigner(t, "ed25519").PublicKey()
	// A wrong host key is final: the wait ends with it long before its
	// generous deadline (which only a very loaded machine could reach),
	// and check never runs.
	checked := false
	err := wait.Until(t.Context(), nil, Condition(bad, "ssh on k8smaster1", func(context.Context, *Client) error { checked = true; return nil }), time.Minute, 10*time.Millisecond)
	var hk *HostKeyError
	if !errors.As(err, &hk) || errors.Is(err, context.DeadlineExceeded) || checked {
		t.Fatalf("waiting for a node with the wrong key = %v (check ran: %v), want the host key error at once", err, checked)
	}
}

// TestConditionRunsCheckOnTheConnection: the check gets the connection,
// runs on it, and its result decides the condition; a permanent error ends
// the wait.
func TestConditionRunsCheckOnTheConnection(t *testing.T) {
	s := startServer(t)
	calls := 0
	cond := Condition(s.config(), "ssh and something on k8smaster1", func(ctx context.Context, c *Client) error {
		calls++
		out, _, err := c.Run(ctx, "echo ok")
		if err != nil {
			return err
		}
		if calls < 3 {
			return fmt.Errorf("not yet (%s)", bytes.TrimSpace(out))
		}
		return nil
	})
	if cond.Name != "ssh and something on k8smaster1" {
		t.Errorf("Name = %q", cond.Name)
	}
	if err := wait.Until(t.Context(), nil, cond, 5*time.Second, 10*time.Millisecond); err != nil || calls != 3 {
		t.Fatalf("wait = %v after %d checks, want nil after 3", err, calls)
	}
	final := errors.New("the seed failed")
	err := wait.Until(t.Context(), nil, Condition(s.config(), "ssh and a failing check", func(context.Context, *Client) error { return wait.Permanent(final) }), time.Minute, 10*time.Millisecond)
	if !errors.Is(err, final) {
		t.Fatalf("wait = %v, want the check's permanent error", err)
	}
}

func TestWriteKnownHosts(t *testing.T) {
	a, b := newSigner(t, "ed25519").PublicKey(), newSigner(t, "ecdsa").PublicKey()
	var buf bytes.Buffer
	if err := WriteKnownHosts(&buf, map[string]xssh.PublicKey{"192.168.199.201:22": b, "192.168.199.200": a}); err != nil {
		t.Fatal(err)
	}
	want := "192.168.199.200 " + string(bytes.TrimSpace(xssh.MarshalAuthorizedKey(a))) + "\n" +
		"192.168.199.201 " + string(bytes.TrimSpace(xssh.MarshalAuthorizedKey(b))) + "\n"
	if buf.String() != want {
		t.Errorf("known_hosts =\n%s\nwant\n%s", buf.String(), want)
	}
}

// RunInput gives the command its stdin (a binary to install, for one).
func TestRunInput(t *testing.T) {
	s := startServer(t)
	c := dial(t, s.config())
	in := strings.Repeat("\x00binary\xff", 100000)
	out, _, err := c.RunInput(t.Context(), "cat", strings.NewReader(in))
	if err != nil || string(out) != in {
		t.Fatalf("RunInput = %d bytes, %v; want the %d bytes of stdin back", len(out), err, len(in))
	}
}
