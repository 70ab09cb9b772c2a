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
	steps := []struct{ step, line string }{
		{"network", "• creating network"},
		{"pools", "• creating storage pools"},
		{"upload", "• uploading the base image"},
		{"volumes", "• creating volumes"},
		{"domains", "• starting domains"},
		{"waits", "• waiting for"},
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
					if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
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
				t.Fatalf("create interrupted at %s: %v, want a failed exit", s.step, err)
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
			t.Logf("interrupted at %s (exit %d): before destroy: %s", s.step, ee.ExitCode(), before)
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
