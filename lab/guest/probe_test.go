package guest

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func TestFsyncProbeWritesSyncsAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	p := FsyncProbe{Dir: dir, Count: 20, MaxTime: time.Minute, Bytes: 2300}
	var lat []time.Duration
	var size int64
	err := p.Run(t.Context(), func(d time.Duration) error {
		lat = append(lat, d)
		fi, err := os.Stat(dir + "/" + probeFile)
		if err != nil {
			return err
		}
		size = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 20 || size != 20*2300 {
		t.Fatalf("%d latencies, file of %d bytes; want 20 and %d", len(lat), size, 20*2300)
	}
	for _, d := range lat {
		if d <= 0 {
			t.Fatalf("latency %s", d)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the probe left %d files behind", len(entries))
	}
}

func TestFsyncProbeStopsAtMaxTime(t *testing.T) {
	p := FsyncProbe{Dir: t.TempDir(), Count: 1000, MaxTime: time.Nanosecond, Bytes: 1}
	n := 0
	if err := p.Run(t.Context(), func(time.Duration) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d writes after MaxTime had passed, want 1", n)
	}
}

func TestFsyncProbeStopsOnError(t *testing.T) {
	dir := t.TempDir()
	stop := errors.New("stop")
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	err := FsyncProbe{Dir: dir, Count: 10, MaxTime: time.Minute, Bytes: 1}.Run(ctx, func(time.Duration) error {
		n++
		if n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 2 {
		t.Fatalf("cancelled after 2: %d writes, %v", n, err)
	}
	err = FsyncProbe{Dir: dir, Count: 10, MaxTime: time.Minute, Bytes: 1}.Run(t.Context(), func(time.Duration) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the callback's", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the probe left %d files behind", len(entries))
	}
}

func TestFsyncProbeRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		p    FsyncProbe
		want string
	}{
		{FsyncProbe{Dir: "rel", Count: 1, MaxTime: time.Second, Bytes: 1}, "--dir"},
		{FsyncProbe{Dir: "/x", Count: 0, MaxTime: time.Second, Bytes: 1}, "--count"},
		{FsyncProbe{Dir: "/x", Count: 1, Bytes: 1}, "--max-time"},
		{FsyncProbe{Dir: "/x", Count: 1, MaxTime: time.Second}, "--bytes"},
	} {
		if err := tc.p.Run(t.Context(), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %s named", tc.p, err, tc.want)
		}
	}
	if err := (FsyncProbe{Dir: "/nonexistent-lab-dir", Count: 1, MaxTime: time.Second, Bytes: 1}).Run(t.Context(), nil); err == nil {
		t.Error("a probe in a missing directory ran")
	}
}

func TestCommandQuotes(t *testing.T) {
	got := FsyncProbe{Dir: "/var/lib/it's", Count: 3, MaxTime: 1500 * time.Millisecond, Bytes: 2300}.Command()
	want := LabBinary + ` 'guest' 'fsync-probe' '--dir' '/var/lib/it'\''s' '--count' '3' '--max-time' '1.5s' '--bytes' '2300'`
	if got != want {
		t.Fatalf("Command() = %s\nwant        %s", got, want)
	}
}

func TestCarryRefusesWhatTheNodesCannotRun(t *testing.T) {
	script := t.TempDir() + "/lab"
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if _, err := Carry(script); err == nil {
		t.Error("a shell script was carried as the lab binary")
	}
	// The test binary is built with cgo wherever the host has a C
	// toolchain; either way Carry must answer, and a refusal must say how
	// to build a static one.
	exe, _ := os.Executable()
	c, err := Carry(exe)
	if err != nil && !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("Carry(test binary): %v", err)
	}
	if err == nil && len(c.SHA256) != 64 {
		t.Fatalf("sha256 %q", c.SHA256)
	}
}
