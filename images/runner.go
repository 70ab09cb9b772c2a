package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Runner runs the external programs of a build. The host runner executes
// them; tests substitute a fake that records the calls and creates the
// files the real programs would.
type Runner interface {
	// Run runs name with args and returns its standard output. A failure
	// is a *CommandError carrying the tail of standard error.
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
	// RunInput is Run with stdin as the program's standard input, for
	// programs such as sfdisk that read a script there.
	RunInput(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
	// LookPath finds name like exec.LookPath.
	LookPath(name string) (string, error)
}

// CommandError is a program that failed.
type CommandError struct {
	Command []string
	Err     error
	// Stderr is the last part of the program's standard error.
	Stderr string
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %v", strings.Join(e.Command, " "), e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// HostRunner runs programs on this machine and logs their standard error
// line by line at debug level.
type HostRunner struct {
	Logger *slog.Logger
}

// stopGrace is how long a program has to exit after SIGTERM before it is
// killed. debootstrap needs the chance to run its exit trap, which unmounts
// what it mounted inside the target.
const stopGrace = 20 * time.Second

// Run implements Runner.
func (r HostRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return r.RunInput(ctx, nil, name, args...)
}

// RunInput implements Runner.
func (r HostRunner) RunInput(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = stopGrace
	var stdout bytes.Buffer
	tail := &tailWriter{max: 2048}
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(tail, &logWriter{logger: r.Logger, program: name})
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &CommandError{Command: append([]string{name}, args...), Err: err, Stderr: tail.String()}
	}
	return stdout.Bytes(), nil
}

// LookPath implements Runner.
func (HostRunner) LookPath(name string) (string, error) { return exec.LookPath(name) }

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return strings.TrimSpace(string(t.buf)) }

// logWriter sends complete lines to the logger.
type logWriter struct {
	logger  *slog.Logger
	program string
	partial []byte
}

func (l *logWriter) Write(p []byte) (int, error) {
	if l.logger == nil {
		return len(p), nil
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.partial[:i])); line != "" {
			l.logger.Debug(line, "program", l.program)
		}
		l.partial = l.partial[i+1:]
	}
	return len(p), nil
}
