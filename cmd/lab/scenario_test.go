package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/report"
	"github.com/kthw-lab/lab/scenarios/slowdisk"
)

func TestParseArmDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"short":   shortDuration,
		"default": slowdisk.DefaultDuration,
		"30s":     30 * time.Second,
		"2m":      2 * time.Minute,
		"1m30s":   90 * time.Second,
	} {
		got, err := parseArmDuration(in)
		if err != nil || got != want {
			t.Errorf("parseArmDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	// The words are the CLI's, as typed: no other spelling and no bare number.
	for _, in := range []string{"", "long", "Short", " short", "45", "0", "0s", "-10s", "10 s"} {
		_, err := parseArmDuration(in)
		if err == nil {
			t.Errorf("parseArmDuration(%q) accepted", in)
			continue
		}
		for _, form := range []string{"90s", "short", "default"} {
			if !strings.Contains(err.Error(), form) {
				t.Errorf("parseArmDuration(%q) error %q does not name %s", in, err, form)
			}
		}
	}
}

// A short run must still be long enough to show hdd's election trouble, and
// shorter than the default.
func TestShortDurationIsShorterThanDefault(t *testing.T) {
	if shortDuration < 30*time.Second || shortDuration >= slowdisk.DefaultDuration {
		t.Fatalf("short = %s, want between the e2e test's 30s and the default %s", shortDuration, slowdisk.DefaultDuration)
	}
}

func TestSlowDiskRejectsBadDurationBeforeTouchingTheLab(t *testing.T) {
	_, _, err := runLab(t, "scenario", "slow-disk", "--duration", "soon")
	if err == nil || !strings.Contains(err.Error(), `--duration "soon"`) {
		t.Fatalf("err = %v, want the --duration error", err)
	}
}

func TestSlowDiskHelpNamesDurationWords(t *testing.T) {
	out, _, err := runLab(t, "scenario", "slow-disk", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--duration", "short (45s", "default (1m30s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not mention %q:\n%s", want, out)
		}
	}
}

// TestStrictContrast: --strict exits 1 naming the report whose contrast did
// not show (here an ssd arm that never elected), and 0 when all show it.
func TestStrictContrast(t *testing.T) {
	if err := strictContrast(nil); err != nil {
		t.Errorf("no reports: %v", err)
	}
	bad := report.Report{Arms: []report.Arm{{Name: "ssd", TimeToFirstLeader: report.Never}}}
	err := strictContrast([]string{"out/run-2: " + slowdisk.Contrast(bad).Error()})
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(ee.msg, "out/run-2: ssd did not keep one leader") {
		t.Fatalf("strictContrast = %v, want exit 1 naming out/run-2's ssd arm", err)
	}
}

// TestSlowDiskRejectsBadFlagsBeforeTouchingTheLab: every flag is checked
// before the lab is looked at (there is none here: a flag error must come
// first), and create's flags without --create are an error, not ignored.
func TestSlowDiskRejectsBadFlagsBeforeTouchingTheLab(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--arms", "nvme"}, `slow-disk has no arm "nvme"`},
		{[]string{"--fsync-latency", "0s"}, "--fsync-latency 0s: want a positive duration"},
		{[]string{"--fsync-latency", "2m"}, "--fsync-latency 2m0s is out of range"},
		{[]string{"--check-perf", "-5s"}, "--check-perf -5s"},
		{[]string{"--out", "/proc/version/x"}, "is a file, not a directory"},
		{[]string{"--subnet", "192.168.188.0/24"}, "--subnet: create's flags apply only with --create"},
		{[]string{"--cpus", "2", "--memory", "1024"}, "--cpus, --memory: create's flags apply only with --create"},
	} {
		_, _, err := runLab(t, append([]string{"scenario", "slow-disk"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
	// Valid flags get as far as the missing lab.
	_, _, err := runLab(t, "scenario", "slow-disk", "--fsync-latency", "2s", "--check-perf", "0", "--out", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("valid flags: err = %v, want the missing lab", err)
	}
}

// TestSlowDiskNeedsEveryArmsEtcdFirst: an arm on an etcd the cache lacks
// fails before the lab is looked at, naming the command that fetches it.
func TestSlowDiskNeedsEveryArmsEtcdFirst(t *testing.T) {
	_, _, err := runLab(t, "scenario", "slow-disk", "--arms", "ssd,hdd@v3.4.23")
	if err == nil || !strings.Contains(err.Error(), "arm hdd@v3.4.23: etcd v3.4.23 is not in cache") ||
		!strings.Contains(err.Error(), "lab etcd fetch --from debian --version v3.4.23") {
		t.Errorf("err = %v", err)
	}
}
