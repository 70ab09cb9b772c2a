package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/images/etcdbin"
)

// runLab runs the whole CLI in memory with a private cache and state.
func runLab(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("LAB_CACHE_DIR", t.TempDir())
	t.Setenv("LAB_STATE_DIR", t.TempDir())
	var out, errb bytes.Buffer
	err = run(t.Context(), append([]string{"lab"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func TestHelpListsWorkingCommands(t *testing.T) {
	out, _, err := runLab(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"doctor", "image", "etcd", "render", "create", "status", "ssh", "logs", "env", "destroy", "version"} {
		if !strings.Contains(out, "   "+cmd+" ") {
			t.Errorf("--help does not list %q:\n%s", cmd, out)
		}
	}
	for _, flag := range []string{"--lab", "--connect", "--state-dir", "--cache-dir", "--output", "--verbose", "--quiet", "LAB_NAME", "LAB_CONNECT", "LAB_STATE_DIR"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
}

func TestVersion(t *testing.T) {
	out, _, err := runLab(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "etcd "+etcdbin.PinnedVersion()) || !strings.Contains(out, "go go1.") {
		t.Fatalf("version output %q lacks the etcd or Go version", out)
	}
	out, _, err = runLab(t, "--output", "json", "version")
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Lab, Go, Etcd string }
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("version JSON %q: %v", out, err)
	}
	if info.Etcd != etcdbin.PinnedVersion() || info.Lab == "" {
		t.Fatalf("version JSON = %+v", info)
	}
}

func TestBadGlobalFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--output", "yaml", "version"}, `--output "yaml" is not supported: use text or json`},
		{[]string{"-v", "-q", "version"}, "--verbose and --quiet contradict each other"},
	} {
		_, _, err := runLab(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestImageListEmptyCacheSaysHowToFill(t *testing.T) {
	out, stderr, err := runLab(t, "image", "list")
	if err != nil {
		t.Fatal(err)
	}
	if out != "" || !strings.Contains(stderr, "lab image build") {
		t.Fatalf("stdout %q, stderr %q", out, stderr)
	}
	out, _, err = runLab(t, "-o", "json", "image", "list")
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("json list = %q, %v", out, err)
	}
}

func TestImageFetchUnknownDistroListsKnownOnes(t *testing.T) {
	_, _, err := runLab(t, "image", "fetch", "--distro", "arch")
	if err == nil || !strings.Contains(err.Error(), "debian-12") || !strings.Contains(err.Error(), "ubuntu-24.04") {
		t.Fatalf("err = %v, want the known distros listed", err)
	}
}

func TestEtcdFetchBadVersionListsKnownOnes(t *testing.T) {
	_, _, err := runLab(t, "etcd", "fetch", "--version", "latest")
	if err == nil || !strings.Contains(err.Error(), "v3.4.7") {
		t.Fatalf("err = %v, want the known versions listed", err)
	}
}

func TestDoctorFailsWithExitOneAndJSON(t *testing.T) {
	// The cache is empty, so the base image and etcd checks fail whatever
	// the host has.
	out, _, err := runLab(t, "-o", "json", "doctor")
	var coder interface{ ExitCode() int }
	if !errors.As(err, &coder) || coder.ExitCode() != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
	var report struct {
		Checks []struct{ Name, Status, Fix string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("doctor JSON: %v\n%s", err, out)
	}
	found := map[string]string{}
	for _, c := range report.Checks {
		found[c.Name] = c.Status + " " + c.Fix
	}
	if !strings.HasPrefix(found["base image"], "fail") || !strings.Contains(found["base image"], "lab image build") {
		t.Errorf("base image check = %q", found["base image"])
	}
	if !strings.HasPrefix(found["etcd binary"], "fail") || !strings.Contains(found["etcd binary"], "lab etcd build") {
		t.Errorf("etcd binary check = %q", found["etcd binary"])
	}
}
