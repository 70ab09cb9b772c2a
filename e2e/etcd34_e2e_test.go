//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/scenarios/report"
	"github.com/kthw-lab/lab/scenarios/slowdisk"
)

// TestEtcd34 runs the story's etcd generation — Debian's 3.4 from
// scripts/etcd34.sh, given with --etcd-binary — through the hdd arm: 3.4
// logs its slow fsyncs as "sync duration of …, expected less than 1s", and
// the report must count them.
func TestEtcd34(t *testing.T) {
	connectLibvirt(t)
	bin := os.Getenv("LAB_ETCD34")
	if bin == "" {
		t.Fatal("LAB_ETCD34 must name etcd 3.4's binary: LAB_ETCD34=$(scripts/etcd34.sh) (make e2e sets it)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	state := t.TempDir()
	const (
		name = "e2e34"
		net  = "192.168.198.0/24"
	)
	run := func(args ...string) (string, error) {
		return runLabNamed(t, ctx, name, state, args...)
	}
	t.Cleanup(func() {
		if _, err := runLabNamed(t, context.Background(), name, state, "destroy"); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
	})
	if out, err := run("create", "--subnet", net, "--accel", "tcg", "--cpus", "1", "--memory", "768", "--etcd-binary", bin); err != nil {
		t.Fatalf("lab create --etcd-binary %s: %v\n%s", bin, err, out)
	}
	dir := filepath.Join(t.TempDir(), "report")
	out, err := run("scenario", "slow-disk", "--arms", "hdd", "--duration", "20s", "--check-perf", "0", "--out", dir)
	if err != nil {
		t.Fatalf("lab scenario slow-disk: %v\n%s", err, out)
	}
	t.Logf("etcd 3.4 on the hdd profile:\n%s", out)
	rep := readReport(t, dir)
	if !strings.HasPrefix(rep.EtcdVersion, "3.4") && !strings.HasPrefix(rep.EtcdVersion, "v3.4") {
		t.Errorf("report's etcd version = %q, want 3.4", rep.EtcdVersion)
	}
	hdd := rep.Arms[0]
	journal, _ := os.ReadFile(filepath.Join(dir, "hdd", "journal-k8smaster0.log"))
	if !strings.Contains(string(journal), "expected less than 1s") {
		t.Errorf("k8smaster0's journal has no 3.4 'sync duration of' line")
	}
	if hdd.SlowFsyncLines == 0 {
		t.Errorf("the report counted no slow fsync lines from etcd 3.4's journal")
	}
	if err := slowdisk.ElectionTrouble(hdd); err != nil {
		t.Errorf("etcd 3.4 on the hdd profile: %v (%s)", err, report.Verdict(hdd))
	}
	// 3.4 runs without pre-vote: every election is a vote at a higher term.
	if hdd.PreVotes.Total() != 0 || hdd.Votes.Total() < 2 {
		t.Errorf("etcd 3.4: %d pre-vote and %d vote campaigns, want none and at least two", hdd.PreVotes.Total(), hdd.Votes.Total())
	}
	checkAgainstEvidence(t, dir, rep)
}
