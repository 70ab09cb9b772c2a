package ssh

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// Shell starts a login shell on the node with stdin, stdout and stderr
// attached, and returns when it ends; its exit status comes back as a
// *RemoteError like Run's. With tty set it requests a pseudo-terminal; when
// stdin is also a terminal file (the CLI passes os.Stdin), that terminal is
// put in raw mode for the session, restored afterwards, and its size follows
// the local window. Cancelling ctx closes the session.
func (c *Client) Shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, tty bool) error {
	sess, err := c.conn.NewSession()
	if err != nil {
		return fmt.Errorf("opening ssh session on %s: %w", c.name, err)
	}
	defer sess.Close()
	tail := &tailBuffer{max: 4 << 10}
	sess.Stdin = stdin
	sess.Stdout = orDiscard(stdout)
	sess.Stderr = io.MultiWriter(orDiscard(stderr), tail)

	if tty {
		local, err := rawTerminal(stdin)
		if err != nil {
			return fmt.Errorf("opening a shell on %s: %w", c.name, err)
		}
		defer local.restore()
		modes := xssh.TerminalModes{xssh.ECHO: 1, xssh.TTY_OP_ISPEED: 38400, xssh.TTY_OP_OSPEED: 38400}
		if err := sess.RequestPty(terminalType(), local.height, local.width, modes); err != nil {
			return fmt.Errorf("requesting a terminal on %s: %w", c.name, err)
		}
		stop := local.onResize(func(width, height int) { _ = sess.WindowChange(height, width) })
		defer stop()
	}
	if err := sess.Shell(); err != nil {
		return fmt.Errorf("starting a shell on %s: %w", c.name, err)
	}
	return c.wait(ctx, sess, "shell", tail)
}

func terminalType() string {
	if t := os.Getenv("TERM"); t != "" {
		return t
	}
	return "xterm-256color"
}

// localTerminal is the caller's side of an interactive session.
type localTerminal struct {
	fd            int // -1 when stdin is not a terminal
	width, height int
	restore       func()
}

// rawTerminal switches the terminal behind r, when r is one, to raw mode so
// keys such as Ctrl-C reach the remote shell instead of this process. For
// anything else (a pipe, a test's buffer) it changes nothing and reports the
// classic 80×24.
func rawTerminal(r io.Reader) (*localTerminal, error) {
	t := &localTerminal{fd: -1, width: 80, height: 24, restore: func() {}}
	f, ok := r.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return t, nil
	}
	fd := int(f.Fd())
	if w, h, err := term.GetSize(fd); err == nil {
		t.width, t.height = w, h
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return nil, fmt.Errorf("setting the terminal to raw mode: %w", err)
	}
	t.fd = fd
	t.restore = func() { _ = term.Restore(fd, state) }
	return t, nil
}

// onResize calls f with the new size whenever the local window changes, until
// the returned stop is called.
func (t *localTerminal) onResize(f func(width, height int)) (stop func()) {
	if t.fd < 0 {
		return func() {}
	}
	sig := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(sig, syscall.SIGWINCH)
	go func() {
		for {
			select {
			case <-sig:
				if w, h, err := term.GetSize(t.fd); err == nil {
					f(w, h)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sig)
		close(done)
	}
}
