package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestUsageErrorsExitTwo checks what a script sees for a typo: exit 2, a
// short message on stderr naming the problem, the usage line and the help
// to read, and nothing on stdout.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"destory"}, []string{`unknown command "destory"`, "usage: lab [global options] COMMAND", "'lab --help'"}},
		{[]string{"help", "statsu"}, []string{`unknown command "statsu"`, "'lab --help'"}},
		{[]string{"image", "bogus"}, []string{`unknown command "image bogus"`, "usage: lab image COMMAND", "'lab image --help'"}},
		{[]string{"create", "--bogus"}, []string{"unknown flag --bogus", "usage: lab create [options]", "'lab create --help'"}},
		{[]string{"--bogus", "status"}, []string{"unknown flag --bogus", "'lab --help'"}},
		{[]string{"create", "--nodes", "abc"}, []string{`invalid value "abc" for flag --nodes`, "'lab create --help'"}},
		{[]string{"disk", "probe", "--max-time", "soon"}, []string{`invalid value "soon" for flag --max-time`, "'lab disk probe --help'"}},
		{[]string{"etcd", "fetch"}, []string{"flag --version is required", "'lab etcd fetch --help'"}},
		{[]string{"--output", "yaml", "version"}, []string{`--output "yaml" is not supported`}},
		{[]string{"create", "--nodes", "2"}, []string{"--nodes 2: etcd needs an odd member count"}},
	} {
		stdout, stderr, code := runExit(t, tc.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, exitUsage, stderr)
		}
		if stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tc.args, stdout)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
		if n := strings.Count(stderr, "\n"); n > 8 {
			t.Errorf("%v: stderr has %d lines, want a short message:\n%s", tc.args, n, stderr)
		}
	}
}

func TestHelpDocumentsExitCodes(t *testing.T) {
	stdout, _, code := runExit(t, "--help")
	if code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, w := range []string{"Exit status:", "2    bad usage", "130"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("--help lacks %q", w)
		}
	}
}

// runExit runs the CLI as main does and returns the exit status main uses.
func runExit(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	out, errs, err := runLab(t, args...)
	var b bytes.Buffer
	code = exitCode(err, &b)
	return out, errs + b.String(), code
}
