//go:build integration

package images_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/cloudinit"
	"github.com/kthw-lab/lab/images"
)

// TestGuestBootsForItsJob boots the cached image as a one-node lab (the
// real create: seed, cloud-init, etcd over mTLS; TCG, under vmlock on
// shared machines) and asks the guest whether its first boot did only its
// job: cloud-init done without errors, no failed unit, only the modules
// the image configures ran, the masked units masked and no KVM module
// loaded. Needs libvirtd, the image and etcd in LAB_CACHE_DIR (make image
// etcd).
func TestGuestBootsForItsJob(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("THIS TEST BOOTS A VM: run it as root (or a member of the libvirt group), under vmlock on a shared machine")
	}
	bin := filepath.Join(t.TempDir(), "lab")
	build := exec.Command("go", "build", "-o", bin, "../cmd/lab")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building lab: %v\n%s", err, out)
	}
	state := t.TempDir()
	lab := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, append([]string{"--lab", "btimg", "--state-dir", state}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			return out.String() + errb.String(), err
		}
		return out.String(), nil
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if out, err := lab(ctx, "destroy"); err != nil {
			t.Errorf("lab destroy: %v\n%s", err, out)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	if out, err := lab(ctx, "create", "--nodes", "1", "--accel", "tcg", "--cpus", "1", "--memory", "768", "--subnet", "192.168.187.0/24"); err != nil {
		t.Fatalf("lab create: %v\n%s", err, out)
	}
	t.Logf("one node to quorum in %s", time.Since(start).Round(time.Second))
	guest := func(cmd string) string {
		t.Helper()
		out, err := lab(ctx, "ssh", "k8smaster0", "--", cmd)
		if err != nil {
			t.Fatalf("%s on the guest: %v\n%s", cmd, err, out)
		}
		return out
	}

	status := guest("cloud-init status --long --wait")
	t.Logf("cloud-init status --long:\n%s", status)
	// "status: done", not "error" or (cloud-init 23+) "degraded done".
	if !regexp.MustCompile(`(?m)^status: done$`).MatchString(status) {
		t.Errorf("cloud-init did not finish cleanly:\n%s", status)
	}
	if failed := strings.TrimSpace(guest("systemctl --failed --no-legend --plain")); failed != "" {
		t.Errorf("failed units:\n%s", failed)
	}
	if state := strings.TrimSpace(guest("systemctl is-system-running --wait || true")); state != "running" {
		t.Errorf("systemctl is-system-running = %q, want running", state)
	}

	// cloud-init logs "Running module NAME" for each module it runs.
	var ran []string
	for _, m := range regexp.MustCompile(`Running module ([a-z_]+)`).FindAllStringSubmatch(guest("sudo cat /var/log/cloud-init.log"), -1) {
		if !slices.Contains(ran, m[1]) {
			ran = append(ran, m[1])
		}
	}
	t.Logf("modules run: %v", ran)
	configured := cloudinit.LabSystemConfig().Modules()
	for _, m := range ran {
		if !slices.Contains(configured, m) {
			t.Errorf("module %s ran but the image does not configure it", m)
		}
	}
	for _, m := range []string{"write_files", "users_groups", "ssh", "runcmd", "scripts_user", "final_message"} {
		if !slices.Contains(ran, m) {
			t.Errorf("module %s did not run", m)
		}
	}

	// cloud-init's generator (ds-identify) read the image's datasource
	// list rather than probing every datasource it knows.
	if log := guest("sudo cat /run/cloud-init/ds-identify.log"); !strings.Contains(log, "set datasource_list: [NoCloud]") {
		t.Errorf("ds-identify did not read the image's datasource_list:\n%s", log)
	}
	for _, u := range images.MaskedUnits {
		if got := strings.TrimSpace(guest("systemctl is-enabled " + u + " || true")); got != "masked" {
			t.Errorf("%s is %q, want masked", u, got)
		}
	}
	// The drop-ins are in force: the final stage at idle priority, sshd
	// without its configuration test.
	if got := strings.TrimSpace(guest("systemctl show -p CPUSchedulingPolicy --value cloud-final")); got != "5" {
		t.Errorf("cloud-final's CPUSchedulingPolicy = %q, want 5 (SCHED_IDLE)", got)
	}
	if got := strings.TrimSpace(guest("systemctl show -p ExecStartPre --value ssh")); got != "" {
		t.Errorf("ssh.service still runs %q before sshd", got)
	}
	// The data disk is mounted by the seed's runcmd and in fstab for later
	// boots.
	if got := guest("findmnt -n -o SOURCE /var/lib/etcd; grep -c ' /var/lib/etcd ' /etc/fstab"); got != "/dev/mapper/etcd-data\n1\n" {
		t.Errorf("etcd's data mount and fstab line: %q", got)
	}
	lsmod := guest("cat /proc/modules")
	for _, m := range images.BlacklistedModules {
		if regexp.MustCompile(`(?m)^` + m + ` `).MatchString(lsmod) {
			t.Errorf("module %s is loaded though the image blacklists it", m)
		}
	}
	if got := strings.TrimSpace(guest("systemctl is-active etcd")); got != "active" {
		t.Errorf("etcd is %q", got)
	}
}
