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

// startHelper runs this test binary as the interrupt helper and waits
// until it listens for signals.
func startHelper(t *testing.T) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	r := bufio.NewReader(pipe)
	if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	var stdout bytes.Buffer
	go func() { _, _ = stdout.ReadFrom(r) }()
	return cmd, &stdout, &stderr
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
	cmd, stdout, stderr := startHelper(t)
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := exitOf(t, cmd.Wait())
	took := time.Since(began)
	time.Sleep(100 * time.Millisecond) // the stdout copy
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
	cmd, stdout, stderr := startHelper(t)
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	code := exitOf(t, cmd.Wait())
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
	cmd, stdout, _ := startHelper(t)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitOf(t, cmd.Wait()); code != exitSignal {
		t.Errorf("exit %d, want %d", code, exitSignal)
	}
	time.Sleep(100 * time.Millisecond)
	if !strings.Contains(stdout.String(), "step done") {
		t.Errorf("the step did not finish: stdout %q", stdout)
	}
}
