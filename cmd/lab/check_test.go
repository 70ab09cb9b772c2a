package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/spec"
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

// TestRunCheckPerf runs lab check perf for real, shortened, against a real
// etcd member (built at the pinned version) with the lab's own
// certificates, through a lab whose state points at it. Whether the check
// passes depends on this machine's load, so the test asserts that the
// verdict, the lines and the exit status agree.
func TestRunCheckPerf(t *testing.T) {
	m := startEtcd(t, "k8smaster0")
	stateDir := stateWithMember(t, "kthw", m)
	c, err := etcd.New(t.Context(), etcd.ClientConfig{Endpoints: []string{m.Endpoint}, TLS: m.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runCheck := func(output string, duration time.Duration) (string, string, error) {
		var out, errb bytes.Buffer
		err := run(t.Context(), []string{"lab", "--state-dir", stateDir, "--lab", "kthw", "-o", output,
			"check", "perf", "--prefix", "/cli/", "--duration", duration.String()}, strings.NewReader(""), &out, &errb)
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

// stateWithMember makes a lab store under a new state directory whose
// state lists m's endpoint as the cluster and whose keys are m's: the lab
// handle then talks to the real member as to a lab's cluster.
func stateWithMember(t *testing.T, name string, m etcdMember) string {
	t.Helper()
	return readyState(t, name, func(store lab.Store, plan *spec.Plan) error {
		plan.Etcd.Endpoints = []string{m.Endpoint}
		return m.PKI.Write(store.PKIDir())
	})
}
