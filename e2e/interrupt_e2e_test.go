//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInterruptEachStep sends SIGINT to 'lab create' (one node) as each of
// its steps starts, detected from its progress lines on stderr, then runs
// 'lab destroy' and checks that nothing is left: no domain, network, pool,
// volume, pool directory or state. It logs, per step, what existed before
// destroy.
func TestInterruptEachStep(t *testing.T) {
	lv := connectLibvirt(t)
	const name = "ownint"
	var steps []struct {
		step, line string
		delay      time.Duration
	}
	// Each step is interrupted as it starts and, to catch it half done
	// (a network defined but not started, an upload under way, a domain
	// defined but not started), 300 ms into it.
	for _, delay := range []time.Duration{0, 300 * time.Millisecond} {
		for _, s := range [][2]string{
			{"network", "• creating network"},
			{"pools", "• creating storage pools"},
			{"upload", "• uploading the base image"},
			{"volumes", "• creating volumes"},
			{"domains", "• starting domains"},
			{"waits", "• waiting for"},
		} {
			steps = append(steps, struct {
				step, line string
				delay      time.Duration
			}{s[0] + "+" + delay.String(), s[1], delay})
		}
	}
	var report []string
	for _, s := range steps {
		t.Run(s.step, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
			defer cancel()
			state := t.TempDir()
			t.Cleanup(func() {
				if _, err := runLabNamed(t, context.Background(), name, state, "destroy"); err != nil {
					t.Errorf("cleanup destroy: %v", err)
				}
			})
			cmd := exec.CommandContext(ctx, labBin, "--lab", name, "--state-dir", state, "create", "--nodes", "1",
				"--subnet", "192.168.191.0/24", "--accel", "tcg", "--cpus", "1", "--memory", "768")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sent := false
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				line := sc.Text()
				t.Logf("lab create: %s", line)
				if !sent && strings.HasPrefix(line, s.line) {
					time.AfterFunc(s.delay, func() {
						if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
							t.Errorf("SIGINT: %v", err)
						}
					})
					sent = true
				}
			}
			io.Copy(io.Discard, stderr)
			err = cmd.Wait()
			if !sent {
				t.Fatalf("create never printed %q (exit %v)", s.line, err)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				// With a delay, a one-node create may finish first: then
				// there is nothing interrupted to test.
				if err == nil && s.delay > 0 {
					t.Logf("create finished before the interrupt %s into %s", s.delay, s.step)
				} else {
					t.Fatalf("create interrupted at %s: %v, want a failed exit", s.step, err)
				}
			}
			l := listLabs(t, ctx, state)[name]
			_, stateErr := os.Stat(filepath.Join(state, name, "state.json"))
			before := strings.Join([]string{
				"state.json " + map[bool]string{true: "present", false: "absent"}[stateErr == nil],
				"domains " + strings.Join(l.Domains, ","),
				"networks " + strings.Join(l.Networks, ","),
				"pools " + strings.Join(l.Pools, ","),
				"volumes " + strings.Join(l.Volumes, ","),
			}, "; ")
			t.Logf("interrupted at %s (%v): before destroy: %s", s.step, err, before)
			if out, err := runLabNamed(t, ctx, name, state, "destroy"); err != nil {
				t.Fatalf("destroy after the interrupt at %s: %v\n%s", s.step, err, out)
			}
			assertNothingLeft(t, lv, name)
			if _, err := os.Stat(filepath.Join(state, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("state dir left after destroy: %v", err)
			}
			if l, ok := listLabs(t, ctx, state)[name]; ok {
				t.Errorf("lab list after destroy still shows %+v", l)
			}
			report = append(report, s.step+": "+before+" -> nothing after destroy")
		})
	}
	t.Logf("interrupt figures:\n%s", strings.Join(report, "\n"))
}
