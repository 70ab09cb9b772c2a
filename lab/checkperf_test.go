package lab

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/progress"
)

func TestPerfProgressLines(t *testing.T) {
	var errb bytes.Buffer
	b := &perfBar{status: progress.New(&errb, false)}
	for done := range 61 {
		b.update(done, 60)
	}
	b.close()
	lines := strings.Split(strings.TrimRight(errb.String(), "\n"), "\n")
	if len(lines) != 10 || lines[0] != "  check perf: 6s of 60s (10%)" || lines[9] != "  check perf: 60s of 60s (100%)" {
		t.Fatalf("progress lines:\n%s", errb.String())
	}
	errb.Reset()
	b = &perfBar{status: progress.Discard} // --quiet
	b.update(60, 60)
	if errb.Len() != 0 {
		t.Fatalf("--quiet printed %q", errb.String())
	}
}

func TestPerfProgressBar(t *testing.T) {
	var errb bytes.Buffer
	b := &perfBar{status: progress.New(&errb, false)}
	for done := range 4 {
		b.update(done, 3)
	}
	b.close()
	want := "  check perf: 1s of 3s (33%)\n  check perf: 2s of 3s (66%)\n  check perf: 3s of 3s (100%)\n"
	if errb.String() != want {
		t.Fatalf("progress = %q, want %q", errb.String(), want)
	}
}

// TestPerfRequestCheck: bad input is refused as bad input (exit 2), naming
// the flag and the fix; etcdctl's defaults pass.
func TestPerfRequestCheck(t *testing.T) {
	if err := DefaultPerfRequest().Check(); err != nil {
		t.Fatalf("the default request: %v", err)
	}
	for _, tc := range []struct {
		r    PerfRequest
		want string
	}{
		{PerfRequest{Load: "huge", Prefix: "/p/"}, `unknown check perf load "huge": use one of s, m, l, xl`},
		{PerfRequest{Load: "s", Prefix: "/p/", Duration: -time.Second}, "--duration -1s: must be positive; use 60s (etcdctl's), or leave it out"},
		{PerfRequest{Load: "s", Prefix: "/p/", DurationGiven: true}, "--duration 0s: must be positive"},
		{PerfRequest{Load: "s", Prefix: "/"}, `--prefix "/": the check writes and then deletes every key under it; use a prefix of its own, such as /etcdctl-check-perf/`},
		{PerfRequest{Load: "s"}, `--prefix "": the check writes`},
	} {
		err := tc.r.Check()
		var in *InputError
		var field *spec.FieldError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &in) && !errors.As(err, &field) {
			t.Errorf("Check(%+v) = %v, want bad input %q", tc.r, err, tc.want)
		}
	}
	if got := strings.Join(PerfLoadChoices(), ", "); !strings.HasPrefix(got, "s (150 writes/s, 50 clients), m ") {
		t.Errorf("load choices = %s", got)
	}
}
