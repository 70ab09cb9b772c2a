package main

import (
	"bytes"
	"encoding/json"
	"errors"
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

// TestRunCheckPerf runs the command's body for real, shortened, against a
// real etcd member (built at the pinned version) with the lab's own
// certificates. Whether the check passes depends on this machine's load, so
// the test asserts that the verdict, the lines and the exit status agree.
func TestRunCheckPerf(t *testing.T) {
	m := startEtcd(t, "k8smaster0")
	c, err := etcd.New(t.Context(), etcd.ClientConfig{Endpoints: []string{m.Endpoint}, TLS: m.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := etcd.LookupPerfLoad("s")
	runCheck := func(output string, duration time.Duration) (string, string, error) {
		var out, errb bytes.Buffer
		g := &globals{Output: output, streams: streams{out: &out, err: &errb}}
		err := g.runCheckPerf(t.Context(), c, "kthw", etcd.PerfOptions{Load: s, Prefix: "/cli/", Duration: duration})
		return out.String(), errb.String(), err
	}
	verdictMatches := func(pass bool, err error) {
		t.Helper()
		var ee exitError
		switch {
		case pass && err != nil:
			t.Fatalf("the check passed but the command failed: %v", err)
		case !pass && (!errors.As(err, &ee) || ee.code != 1):
			t.Fatalf("the check failed but the command returned %v, want exit status 1", err)
		}
	}

	out, stderr, err := runCheck("text", 2*time.Second)
	t.Logf("stdout:\n%s\nstderr:\n%s\nerr: %v", out, stderr, err)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "PASS: Throughput is ") && !strings.HasPrefix(lines[0], "FAIL: Throughput too low: ") {
		t.Fatalf("stdout is not etcdctl's four lines:\n%s", out)
	}
	verdictMatches(lines[3] == "PASS", err)
	for _, want := range []string{"check perf on lab kthw: load s, 150 writes/s from 50 clients for 2s under /cli/", "check perf: 1s of 2s (50%)", "check perf: 2s of 2s (100%)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}

	out, _, err = runCheck("json", time.Second)
	var r etcd.PerfResult
	if jerr := json.Unmarshal([]byte(out), &r); jerr != nil {
		t.Fatalf("JSON output %q: %v", out, jerr)
	}
	if r.Load != "s" || r.Requests == 0 || r.Deleted != int64(r.Requests-r.Errors) || len(r.Checks) != 4 {
		t.Fatalf("JSON result %+v", r)
	}
	verdictMatches(r.Pass, err)

	if _, err := c.V3().Put(t.Context(), "/cli/taken", "x"); err != nil {
		t.Fatal(err)
	}
	if _, _, err = runCheck("text", time.Second); !errors.Is(err, etcd.ErrPrefixHasKeys) {
		t.Fatalf("err = %v, want the refusal of a prefix with keys", err)
	}
}

func TestPerfProgressBar(t *testing.T) {
	var errb bytes.Buffer
	b := (&globals{streams: streams{err: &errb}}).perfProgress()
	for done := range 4 {
		b.update(done, 3)
	}
	b.close()
	want := "  check perf: 1s of 3s (33%)\n  check perf: 2s of 3s (66%)\n  check perf: 3s of 3s (100%)\n"
	if errb.String() != want {
		t.Fatalf("progress = %q, want %q", errb.String(), want)
	}
}
