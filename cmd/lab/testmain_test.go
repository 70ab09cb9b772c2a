package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// labBin is the lab binary built for this test run: the battery runs the
// CLI as a user does, in its own process.
var labBin string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		interruptHelper()
		return
	}
	dir, err := os.MkdirTemp("", "lab-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	labBin = filepath.Join(dir, "lab")
	build := exec.Command("go", "build", "-o", labBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building lab for the tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// helperEnv makes the test binary the interrupt helper: a process with
// main's signal handling whose "current step" takes helperStep once its
// context is cancelled.
const (
	helperEnv  = "LAB_TEST_INTERRUPT_HELPER"
	helperStep = 3 * time.Second
)

// interruptHelper is main with one long step in place of run: it says when
// it is ready for signals, waits for its context to end, finishes the
// step (helperStep), and exits as main does.
func interruptHelper() {
	in := handleInterrupts(context.Background(), os.Stderr, os.Exit)
	fmt.Println("ready")
	<-in.ctx.Done()
	fmt.Println("finishing the step")
	time.Sleep(helperStep)
	fmt.Println("step done")
	in.stop()
	os.Exit(in.exitStatus(exitCode(in.ctx.Err(), os.Stderr)))
}
