//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/accel"
)

// TestDoctorConcurrent runs two `lab doctor` at once. Each boots its own
// KVM self-test probe (a domain named for its process) and must come to its
// own verdict: before probes had their own names, the second run destroyed
// the first one's probe, and the first concluded from a vanished guest.
// While they run, libvirt must show two probes side by side; after, none.
func TestDoctorConcurrent(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	lv := connectLibvirt(t)
	state := t.TempDir()

	var mu sync.Mutex
	seen := map[string]bool{}
	most := 0
	watchDone := make(chan struct{})
	stopWatch := make(chan struct{})
	go func() {
		defer close(watchDone)
		for {
			doms, _, err := lv.ConnectListAllDomains(1, 0)
			if err == nil {
				n := 0
				mu.Lock()
				for _, d := range doms {
					if strings.HasPrefix(d.Name, accel.BootTestPrefix) {
						seen[d.Name] = true
						n++
					}
				}
				most = max(most, n)
				mu.Unlock()
			}
			select {
			case <-stopWatch:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()

	type run struct {
		out  string
		err  error
		took time.Duration
	}
	runs := make([]run, 2)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			out, err := runLabNamed(t, ctx, "refdoc", state, "-o", "json", "doctor")
			runs[i] = run{out: out, err: err, took: time.Since(began)}
		}()
	}
	wg.Wait()
	close(stopWatch)
	<-watchDone

	for i, r := range runs {
		var exit *exec.ExitError
		if r.err != nil && !(errors.As(r.err, &exit) && exit.ExitCode() == 1) {
			t.Fatalf("doctor %d: %v (exit 1 is a failed check, anything else is not a verdict)", i, r.err)
		}
		var report struct {
			Checks []struct{ Name, Status, Detail string }
		}
		if err := json.Unmarshal([]byte(r.out), &report); err != nil {
			t.Fatalf("doctor %d JSON: %v\n%s", i, err, r.out)
		}
		detail := ""
		for _, c := range report.Checks {
			if c.Name == "kvm guests" {
				detail = c.Status + ": " + c.Detail
			}
		}
		t.Logf("doctor %d in %s: kvm guests %s", i, r.took.Round(time.Second), detail)
		switch {
		case detail == "":
			t.Errorf("doctor %d has no kvm guests line:\n%s", i, r.out)
		case strings.Contains(detail, "self-test could not run"), strings.Contains(detail, "went absent"),
			strings.Contains(detail, "went shut off"), strings.Contains(detail, "could not start"):
			t.Errorf("doctor %d did not get its own verdict: %s", i, detail)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("probe domains seen: %v; at most %d at once", keys(seen), most)
	if len(seen) < 2 || most < 2 {
		t.Errorf("saw probes %v, at most %d at once; want two runs' probes side by side", keys(seen), most)
	}
	doms, _, err := lv.ConnectListAllDomains(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range doms {
		if seen[d.Name] {
			t.Errorf("probe %s is left after its run", d.Name)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
