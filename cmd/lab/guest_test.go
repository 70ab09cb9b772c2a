package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/guest"
)

// TestGuestFsyncProbe runs the hidden command with the command line the
// nodes are given (guest.FsyncProbe.Args): what it prints is what 'lab disk
// probe' parses.
func TestGuestFsyncProbe(t *testing.T) {
	o := guest.ProbeOptions{Count: 12, MaxTime: time.Minute, Dir: t.TempDir()}
	out, stderr, err := runLab(t, o.Probe().Args()...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	r, err := guest.ParseProbe("here", out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Writes != 12 {
		t.Fatalf("%d writes, want 12:\n%s", r.Writes, out)
	}
	if entries, _ := os.ReadDir(o.Dir); len(entries) != 0 {
		t.Fatalf("the probe left %d files behind", len(entries))
	}
	_, _, err = runLab(t, "guest", "fsync-probe", "--dir", o.Dir, "--count", "0")
	if code := exitCode(err, io.Discard); code != 2 || !strings.Contains(err.Error(), "--count") {
		t.Fatalf("--count 0: exit %d, %v; want 2 naming --count", code, err)
	}
	if help, _, _ := runLab(t, "--help"); strings.Contains(help, "   guest ") {
		t.Errorf("lab --help lists the hidden guest command:\n%s", help)
	}
}
