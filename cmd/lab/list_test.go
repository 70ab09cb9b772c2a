package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A lab name that is not a lab name is refused by every command that opens
// a store, before anything is read, written or removed; a sibling of the
// state directory named by a traversing name survives.
func TestBadLabNamesAreRefusedEverywhere(t *testing.T) {
	root := t.TempDir()
	stateDir := filepath.Join(root, "state")
	victim := filepath.Join(root, "victim")
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(victim, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(victim, "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"../victim", "", ".", "..", "../../..", "a/b", strings.Repeat("a", 33), "Kthw"} {
		for _, cmd := range [][]string{{"destroy"}, {"status"}, {"ssh", "k8smaster0"}, {"env"}, {"create"}, {"render", "--out", filepath.Join(root, "out")}, {"list"}} {
			_, _, err := runLab(t, append([]string{"--state-dir", stateDir, "--connect", "test:///nowhere", "--lab", name}, cmd...)...)
			if err == nil || !strings.Contains(err.Error(), "--lab") {
				t.Errorf("lab --lab %q %s: %v, want a refusal naming --lab", name, cmd[0], err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(victim, "precious")); err != nil {
		t.Fatalf("the victim directory was touched: %v", err)
	}
	if entries, _ := os.ReadDir(stateDir); len(entries) != 0 {
		t.Fatalf("the state dir holds %d entries after refused commands", len(entries))
	}
	if _, err := os.Stat(filepath.Join(root, "out")); err == nil {
		t.Fatal("render wrote --out for a refused name")
	}
}
