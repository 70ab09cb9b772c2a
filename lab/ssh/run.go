package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	xssh "golang.org/x/crypto/ssh"
)

// RemoteError is a command that ran on a node and failed: it exited non-zero,
// was killed by a signal, or ended without reporting a status.
type RemoteError struct {
	// Host is the node's name.
	Host string
	// Cmd is the command line as sent.
	Cmd string
	// ExitStatus is the remote exit status; -1 when the node sent none.
	ExitStatus int
	// Signal names the signal that killed the command ("KILL"), if any.
	Signal string
	// Stderr is the command's standard error, at most its last 4 KiB.
	Stderr string
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "running %q on %s: ", e.Cmd, e.Host)
	switch {
	case e.Signal != "":
		fmt.Fprintf(&b, "killed by signal %s", e.Signal)
	case e.ExitStatus < 0:
		b.WriteString("ended without an exit status")
	default:
		fmt.Fprintf(&b, "exit status %d", e.ExitStatus)
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		b.WriteString(": ")
		b.WriteString(s)
	}
	return b.String()
}

// Run runs cmd on the node and returns its output. A non-zero exit returns
// both outputs and a *RemoteError. Cancelling ctx closes the session and
// returns no output.
func (c *Client) Run(ctx context.Context, cmd string) (stdout, stderr []byte, err error) {
	var out, errOut bytes.Buffer
	if err := c.exec(ctx, cmd, nil, &out, &errOut); err != nil {
		if ctx.Err() != nil {
			return nil, nil, err
		}
		return out.Bytes(), errOut.Bytes(), err
	}
	return out.Bytes(), errOut.Bytes(), nil
}

// Stream runs cmd on the node, copying its output to stdout and stderr as it
// arrives (either may be nil to discard). A non-zero exit returns a
// *RemoteError whose Stderr holds the tail of what was copied.
func (c *Client) Stream(ctx context.Context, cmd string, stdout, stderr io.Writer) error {
	return c.exec(ctx, cmd, nil, orDiscard(stdout), orDiscard(stderr))
}

// RunInput is Run with stdin as the command's standard input: a file to
// install on the node, for example.
func (c *Client) RunInput(ctx context.Context, cmd string, stdin io.Reader) (stdout, stderr []byte, err error) {
	var out, errOut bytes.Buffer
	if err := c.exec(ctx, cmd, stdin, &out, &errOut); err != nil {
		if ctx.Err() != nil {
			return nil, nil, err
		}
		return out.Bytes(), errOut.Bytes(), err
	}
	return out.Bytes(), errOut.Bytes(), nil
}

func (c *Client) exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("running %q on %s: %w", cmd, c.name, context.Cause(ctx))
	}
	sess, err := c.conn.NewSession()
	if err != nil {
		return fmt.Errorf("opening ssh session on %s: %w", c.name, err)
	}
	defer sess.Close()
	tail := &tailBuffer{max: 4 << 10}
	sess.Stdin = stdin
	sess.Stdout = stdout
	sess.Stderr = io.MultiWriter(stderr, tail)
	if err := sess.Start(cmd); err != nil {
		return fmt.Errorf("running %q on %s: %w", cmd, c.name, err)
	}
	return c.wait(ctx, sess, cmd, tail)
}

// closeGrace is how long a cancelled session may take to deliver what the
// node already sent, so output does not trickle in after we return.
const closeGrace = time.Second

// wait waits for sess to end or ctx to be done, in which case it asks the
// node to kill the command and closes the session.
func (c *Client) wait(ctx context.Context, sess *xssh.Session, cmd string, tail *tailBuffer) error {
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err := <-done:
		return c.result(cmd, err, tail)
	case <-ctx.Done():
		_ = sess.Signal(xssh.SIGKILL) // best effort: older sshd ignore it, closing still ends the session
		sess.Close()
		select {
		case <-done:
		case <-time.After(closeGrace):
		}
		return fmt.Errorf("running %q on %s: %w", cmd, c.name, context.Cause(ctx))
	}
}

func (c *Client) result(cmd string, err error, tail *tailBuffer) error {
	if err == nil {
		return nil
	}
	var exit *xssh.ExitError
	if errors.As(err, &exit) {
		re := &RemoteError{Host: c.name, Cmd: cmd, ExitStatus: exit.ExitStatus(), Signal: exit.Signal(), Stderr: tail.String()}
		return re
	}
	var missing *xssh.ExitMissingError
	if errors.As(err, &missing) {
		return &RemoteError{Host: c.name, Cmd: cmd, ExitStatus: -1, Stderr: tail.String()}
	}
	return fmt.Errorf("running %q on %s: %w", cmd, c.name, err)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
