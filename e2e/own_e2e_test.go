//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ownLab is the lab of the ownership tests: its own name and subnet.
const (
	ownLab    = "ownorph"
	ownSubnet = "192.168.190.0/24"
)

type listed struct {
	Name     string   `json:"name"`
	State    bool     `json:"state"`
	Domains  []string `json:"domains"`
	Networks []string `json:"networks"`
	Pools    []string `json:"pools"`
	Volumes  []string `json:"volumes"`
	Orphan   bool     `json:"orphan"`
}

func listLabs(t *testing.T, ctx context.Context, stateDir string) map[string]listed {
	t.Helper()
	out, err := runLabNamed(t, ctx, ownLab, stateDir, "--output", "json", "list")
	if err != nil {
		t.Fatalf("lab list: %v\n%s", err, out)
	}
	var labs []listed
	if err := json.Unmarshal([]byte(out), &labs); err != nil {
		t.Fatalf("lab list --output json: %v\n%s", err, out)
	}
	m := map[string]listed{}
	for _, l := range labs {
		m[l.Name] = l
	}
	return m
}

// TestOrphanSweep creates a one-node lab, deletes its state directory while
// it runs, and checks that 'lab list' shows the orphan and that 'lab
// destroy' removes every object from the markers alone: no domain, network,
// pool, volume or pool directory is left.
func TestOrphanSweep(t *testing.T) {
	lv := connectLibvirt(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	state := t.TempDir()
	t.Cleanup(func() {
		if _, err := runLabNamed(t, context.Background(), ownLab, state, "destroy"); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
	})
	start := time.Now()
	out, err := runLabNamed(t, ctx, ownLab, state, "create", "--nodes", "1", "--subnet", ownSubnet, "--accel", "tcg", "--cpus", "1", "--memory", "768")
	if err != nil {
		t.Fatalf("lab create: %v\n%s", err, out)
	}
	t.Logf("lab create took %s", time.Since(start).Round(time.Second))

	if l := listLabs(t, ctx, state)[ownLab]; !l.State || l.Orphan || len(l.Domains) != 1 {
		t.Fatalf("lab list before the state is lost: %+v, want the lab with its state, one domain, not an orphan", l)
	}
	if err := os.RemoveAll(filepath.Join(state, ownLab)); err != nil {
		t.Fatal(err)
	}
	l := listLabs(t, ctx, state)[ownLab]
	t.Logf("lab list after the state dir was deleted: %+v", l)
	if l.State || !l.Orphan || len(l.Domains) != 1 || len(l.Networks) != 1 || len(l.Pools) != 2 || len(l.Volumes) < 4 {
		t.Fatalf("lab list: %+v, want an orphan with 1 domain, 1 network, 2 pools and its volumes", l)
	}
	out, err = runLabNamed(t, ctx, ownLab, state, "destroy")
	if err != nil {
		t.Fatalf("lab destroy of the orphan: %v\n%s", err, out)
	}
	assertNothingLeft(t, lv, ownLab)
	if l, ok := listLabs(t, ctx, state)[ownLab]; ok {
		t.Errorf("lab list after destroy still shows %+v", l)
	}
}
