package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
)

func TestCheckPerfUnknownLoad(t *testing.T) {
	_, _, err := runLab(t, "check", "perf", "--load", "bogus")
	if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), "s, m, l, xl") {
		t.Fatalf("err = %v, want one listing the loads s, m, l, xl", err)
	}
}

func TestCheckPerfWithoutLab(t *testing.T) {
	_, _, err := runLab(t, "check", "perf")
	if err == nil || !strings.Contains(err.Error(), "lab create") {
		t.Fatalf("err = %v, want one that says to run lab create", err)
	}
}

func TestCheckPerfHelp(t *testing.T) {
	out, _, err := runLab(t, "check", "perf", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--load", "--prefix", "/etcdctl-check-perf/", "s (150 writes/s, 50 clients)", "xl (15000 writes/s, 1000 clients)"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestPrintPerf(t *testing.T) {
	s, _ := etcd.LookupPerfLoad("s")
	lats := make([]time.Duration, 140)
	for i := range lats {
		lats[i] = 2 * time.Millisecond
	}
	r := etcd.Judge(lats, map[string]int{"etcdserver: request timed out": 2}, s, time.Second)
	var out bytes.Buffer
	printPerf(&out, &r)
	want := `FAIL: too many errors
FAIL: ERROR(etcdserver: request timed out) -> 2
PASS: Throughput is 141 writes/s
PASS: Slowest request took 0.002000s
PASS: Stddev is 0.000000s
FAIL
`
	if out.String() != want {
		t.Fatalf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestPerfProgressLines(t *testing.T) {
	var errb bytes.Buffer
	g := &globals{streams: streams{err: &errb}}
	b := g.perfProgress()
	for done := range 61 {
		b.update(done, 60)
	}
	b.close()
	lines := strings.Split(strings.TrimRight(errb.String(), "\n"), "\n")
	if len(lines) != 10 || lines[0] != "  check perf: 6s of 60s (10%)" || lines[9] != "  check perf: 60s of 60s (100%)" {
		t.Fatalf("progress lines:\n%s", errb.String())
	}
	errb.Reset()
	g.Quiet = true
	b = g.perfProgress()
	b.update(60, 60)
	if errb.Len() != 0 {
		t.Fatalf("--quiet printed %q", errb.String())
	}
}
