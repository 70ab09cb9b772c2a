package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helper is the interrupt helper's process; wait returns its exit status
// once its stdout is read to the end.
type helper struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	copied         chan struct{}
}

func (h *helper) wait(t *testing.T) int {
	t.Helper()
	<-h.copied // Wait closes the pipe: read it to the end first
	return exitOf(t, h.cmd.Wait())
}

// startHelper runs this test binary as the interrupt helper and waits
// until it listens for signals.
func startHelper(t *testing.T) *helper {
	t.Helper()
	h := &helper{cmd: exec.Command(os.Args[0]), copied: make(chan struct{})}
	h.cmd.Env = append(os.Environ(), helperEnv+"=1")
	pipe, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	h.cmd.Stderr = &h.stderr
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.cmd.Process.Kill() })
	r := bufio.NewReader(pipe)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	go func() {
		defer close(h.copied)
		_, _ = h.stdout.ReadFrom(r)
	}()
	return h
}

func exitOf(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	if err == nil {
		return 0
	}
	if !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return exit.ExitCode()
}

// TestFirstInterruptFinishesTheStep: one SIGINT cancels, says so, lets the
// step end, and exits 130.
func TestFirstInterruptFinishesTheStep(t *testing.T) {
	h := startHelper(t)
	stdout, stderr := &h.stdout, &h.stderr
	began := time.Now()
	if err := h.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := h.wait(t)
	took := time.Since(began)
	t.Logf("exit %d after %s; stdout %q; stderr %q", code, took.Round(time.Millisecond), stdout, stderr)
	if code != exitSignal {
		t.Errorf("exit %d, want %d", code, exitSignal)
	}
	if took < helperStep {
		t.Errorf("exited after %s, before the step's %s were over", took, helperStep)
	}
	if !strings.Contains(stdout.String(), "step done") {
		t.Errorf("the step did not finish: stdout %q", stdout)
	}
	if !strings.Contains(stderr.String(), "interrupted: finishing the current step; press Ctrl-C again to exit now") {
		t.Errorf("stderr %q does not say what the interrupt does", stderr)
	}
}

// TestSecondInterruptExitsNow: a second SIGINT during the step exits 130
// at once, without waiting for the step.
func TestSecondInterruptExitsNow(t *testing.T) {
	h := startHelper(t)
	stdout, stderr := &h.stdout, &h.stderr
	began := time.Now()
	if err := h.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := h.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := h.wait(t)
	took := time.Since(began)
	t.Logf("exit %d after %s; stdout %q; stderr %q", code, took.Round(time.Millisecond), stdout, stderr)
	if code != exitSignal {
		t.Errorf("exit %d, want %d", code, exitSignal)
	}
	if took >= helperStep {
		t.Errorf("exited after %s: it waited for the step", took)
	}
	if strings.Contains(stdout.String(), "step done") {
		t.Errorf("the step finished, so the second interrupt did not exit: stdout %q", stdout)
	}
	if !strings.Contains(stderr.String(), "interrupted again: exiting now") {
		t.Errorf("stderr %q does not say it exits now", stderr)
	}
}

// TestSIGTERMIsAnInterrupt: a service manager's stop is the first Ctrl-C.
func TestSIGTERMIsAnInterrupt(t *testing.T) {
	h := startHelper(t)
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := h.wait(t); code != exitSignal {
		t.Errorf("exit %d, want %d", code, exitSignal)
	}
	if !strings.Contains(h.stdout.String(), "step done") {
		t.Errorf("the step did not finish: stdout %q", &h.stdout)
	}
}
