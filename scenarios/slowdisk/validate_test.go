package slowdisk

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := Options{Duration: time.Minute, CheckPerfDuration: 0, FsyncLatency: time.Second, OutDir: filepath.Join(dir, "new", "report")}
	if err := Check(ok); err != nil {
		t.Fatalf("valid options: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Errorf("Check created the report directory")
	}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"negative check perf", func(o *Options) { o.CheckPerfDuration = -time.Second }, "--check-perf -1s"},
		{"negative fsync", func(o *Options) { o.FsyncLatency = -time.Second }, "--fsync-latency -1s: want a positive duration"},
		{"fsync out of range", func(o *Options) { o.FsyncLatency = time.Minute }, "--fsync-latency 1m0s is out of range"},
		{"fsync too small", func(o *Options) { o.FsyncLatency = time.Millisecond }, "out of range: use 10ms to 30s"},
		{"out is a file", func(o *Options) { o.OutDir = file }, "is a file, not a directory"},
		{"out under a file", func(o *Options) { o.OutDir = filepath.Join(file, "x") }, "is a file, not a directory"},
		{"negative duration", func(o *Options) { o.Duration = -time.Second }, "--duration -1s"},
	} {
		o := ok
		tc.edit(&o)
		if err := Check(o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check = %v, want %q", tc.name, err, tc.want)
		}
	}
}
