//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// The e2e lab: its own name and subnet, so it never meets a user's lab.
const (
	labName = "e2e"
	subnet  = "192.168.197.0/24"
)

var labBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lab-e2e-bin-")
	if err != nil {
		panic(err)
	}
	labBin = filepath.Join(dir, "lab")
	// -s -w: the binary is carried to every node for the fsync probe;
	// without symbols it is a third smaller.
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", labBin, "../cmd/lab")
	// Static, as make builds bin/lab: the disk probe carries this binary
	// to the guests and runs it there.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("building lab: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runLab runs the CLI for the e2e lab with the test's state directory and
// the shared cache (LAB_CACHE_DIR, filled by 'make image etcd').
func runLab(t *testing.T, ctx context.Context, stateDir string, args ...string) (string, error) {
	t.Helper()
	return runLabNamed(t, ctx, labName, stateDir, args...)
}

// runLabNamed runs the CLI for lab name; its progress lines go to the test
// log, prefixed with the command.
func runLabNamed(t *testing.T, ctx context.Context, name, stateDir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, labBin, append([]string{"--lab", name, "--state-dir", stateDir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &testWriter{t: t, prefix: "lab " + command(args) + ": "}
	err := cmd.Run()
	return out.String(), err
}

// command is the first argument that is not a flag: the command's name.
func command(args []string) string {
	for _, a := range args {
		if !strings.HasPrefix(a, "-") && a != "json" {
			return a
		}
	}
	return ""
}

type testWriter struct {
	t      *testing.T
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + line)
	}
	return len(p), nil
}

func connectLibvirt(t *testing.T) *libvirt.Libvirt {
	t.Helper()
	l := libvirt.NewWithDialer(dialers.NewLocal())
	if err := l.ConnectToURI(libvirt.QEMUSystem); err != nil {
		t.Fatalf("THE END-TO-END TESTS NEED A RUNNING libvirtd and could not reach it: %v\n"+
			"start it with: sudo scripts/host-setup.sh (or run 'make test', which does)", err)
	}
	t.Cleanup(func() { l.Disconnect() })
	return l
}

// TestLab is the whole user path on one lab (creating one takes minutes
// under TCG): create, etcd over mTLS, ssh, the disk profiles and probe, the
// slow-disk scenario, destroy.
func TestLab(t *testing.T) {
	lv := connectLibvirt(t)
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Minute)
	defer cancel()
	state := t.TempDir()
	// Whatever happens, leave nothing behind.
	t.Cleanup(func() {
		if _, err := runLab(t, context.Background(), state, "destroy"); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
	})

	// lab doctor always runs the KVM self-test afresh and caches its
	// verdict, which create's --accel auto then uses.
	doctorOut, err := runLab(t, ctx, state, "doctor")
	if err != nil {
		t.Fatalf("lab doctor: %v\n%s", err, doctorOut)
	}
	t.Logf("lab doctor:\n%s", doctorOut)
	if os.Getenv("LAB_EXPECT_ACCEL") == "tcg" && !strings.Contains(doctorOut, "KVM present but guests do not boot") {
		t.Errorf("lab doctor's KVM self-test did not find that guests do not boot under KVM here:\n%s", doctorOut)
	}

	start := time.Now()
	// --accel auto: the KVM self-test decides (and on these build
	// machines, where KVM guests hang, must pick TCG: LAB_EXPECT_ACCEL).
	out, err := runLab(t, ctx, state, "create", "--subnet", subnet, "--accel", "auto", "--cpus", "1", "--memory", "768")
	if err != nil {
		t.Fatalf("lab create: %v\n%s", err, out)
	}
	t.Logf("lab create took %s", time.Since(start).Round(time.Second))
	statusOut, err := runLab(t, ctx, state, "status")
	if err != nil {
		t.Fatalf("lab status: %v\n%s", err, statusOut)
	}
	want := os.Getenv("LAB_EXPECT_ACCEL")
	if want == "" {
		want = "(kvm|tcg)"
	}
	if !regexp.MustCompile(`accel ` + want + `\b`).MatchString(statusOut) {
		t.Errorf("lab status does not show accel %s (LAB_EXPECT_ACCEL):\n%s", want, statusOut)
	}
	for _, node := range []string{"k8smaster0", "k8smaster1", "k8smaster2"} {
		if !strings.Contains(out, node) || !strings.Contains(out, "started") {
			t.Fatalf("create's member table lacks %s started:\n%s", node, out)
		}
	}
	checkBootTimeline(t, ctx, state, time.Since(start))

	// The cluster answers over mTLS with the lab's certificates ...
	envOut, err := runLab(t, ctx, state, "--output", "json", "env")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(envOut), &env); err != nil {
		t.Fatal(err)
	}
	endpoints := strings.Split(env["ETCDCTL_ENDPOINTS"], ",")
	if len(endpoints) != 3 {
		t.Fatalf("endpoints = %v", endpoints)
	}
	withCert := mtlsClient(t, env, true)
	put, cancelPut := context.WithTimeout(ctx, 30*time.Second)
	defer cancelPut()
	if _, err := withCert(endpoints).Put(put, "/e2e/probe", "hello"); err != nil {
		t.Fatalf("put over mTLS: %v", err)
	}
	resp, err := withCert(endpoints).Get(put, "/e2e/probe")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "hello" {
		t.Fatalf("get over mTLS: %v %v", resp, err)
	}
	// ... and refuses a client without a certificate.
	noCert, cancelNoCert := context.WithTimeout(ctx, 15*time.Second)
	defer cancelNoCert()
	if _, err := mtlsClient(t, env, false)(endpoints[:1]).Get(noCert, "/e2e/probe"); err == nil {
		t.Fatal("etcd answered a client without a certificate")
	} else {
		t.Logf("client without certificate refused: %v", err)
	}
	// The refusal must be etcd's (client-cert-auth), not a network problem:
	// the member logs the handshake it rejected.
	journal, err := runLab(t, ctx, state, "ssh", "k8smaster0", "--", "sudo", "journalctl", "-u", "etcd", "--no-pager")
	if err != nil || !strings.Contains(journal, "didn't provide a certificate") {
		t.Fatalf("k8smaster0's etcd journal does not show the certificate-less client rejected (%v):\n%s", err, lastLines(journal, 20))
	}

	out, err = runLab(t, ctx, state, "ssh", "k8smaster1", "--", "systemctl", "is-active", "etcd")
	if err != nil || strings.TrimSpace(out) != "active" {
		t.Fatalf("lab ssh k8smaster1 -- systemctl is-active etcd = %q, %v", out, err)
	}
	// The remote exit status comes back as lab's own.
	_, err = runLab(t, ctx, state, "ssh", "k8smaster1", "--", "exit", "3")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("lab ssh -- exit 3: %v, want exit status 3", err)
	}

	checkExport(t, ctx, state, []string{"k8smaster0", "k8smaster1", "k8smaster2"})
	checkStatusDegraded(t, ctx, state, "k8smaster2")
	checkDisks(t, ctx, state)
	checkSlowDiskScenario(t, ctx, state)

	start = time.Now()
	if out, err := runLab(t, ctx, state, "destroy"); err != nil {
		t.Fatalf("lab destroy: %v\n%s", err, out)
	}
	t.Logf("lab destroy took %s", time.Since(start).Round(time.Second))
	assertNothingLeft(t, lv, labName)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// mtlsClient returns a constructor of etcd clients that trust the lab's CA,
// with or without the lab's client certificate.
func mtlsClient(t *testing.T, env map[string]string, withCert bool) func([]string) *clientv3.Client {
	t.Helper()
	ca, err := os.ReadFile(env["ETCDCTL_CACERT"])
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if withCert {
		pair, err := tls.LoadX509KeyPair(env["ETCDCTL_CERT"], env["ETCDCTL_KEY"])
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return func(endpoints []string) *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, TLS: cfg, DialTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
}

// assertNothingLeft asks libvirt for every domain, network and pool and
// fails on any that belongs to lab name, and on its pools' directories.
func assertNothingLeft(t *testing.T, lv *libvirt.Libvirt, name string) {
	t.Helper()
	doms, _, err := lv.ConnectListAllDomains(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range doms {
		if strings.HasPrefix(d.Name, name+"-") {
			t.Errorf("domain %s is left", d.Name)
		}
	}
	nets, _, err := lv.ConnectListAllNetworks(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if n.Name == "lab-"+name {
			t.Errorf("network %s is left", n.Name)
		}
	}
	pools, _, err := lv.ConnectListAllStoragePools(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pools {
		if strings.HasPrefix(p.Name, name+"-") {
			t.Errorf("pool %s is left", p.Name)
		}
	}
	for _, kind := range []string{"ssd", "hdd"} {
		dir := "/var/lib/libvirt/images/lab-" + name + "-" + kind
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			t.Errorf("volume file %s/%s is left", dir, e.Name())
		}
		// lab made the directory (the default path): libvirt removes it.
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("pool directory %s is left", dir)
		}
	}
}

// checkBootTimeline asserts what `lab status -v -o json` says of the boot
// create just waited for: every node's steps in order (console ready,
// SSH, cloud-init), all before quorum, and quorum within create's own
// wall time.
func checkBootTimeline(t *testing.T, ctx context.Context, state string, create time.Duration) {
	t.Helper()
	out, err := runLab(t, ctx, state, "status", "-v", "-o", "json")
	if err != nil {
		t.Fatalf("lab status -v -o json: %v\n%s", err, out)
	}
	var st struct {
		Boot *struct {
			Quorum float64 `json:"quorum_s"`
			Nodes  []struct {
				Node      string   `json:"node"`
				Ready     *float64 `json:"ready_s"`
				SSH       float64  `json:"ssh_s"`
				CloudInit float64  `json:"cloud_init_s"`
			} `json:"nodes"`
		} `json:"boot"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("lab status -v -o json: %v\n%s", err, out)
	}
	b := st.Boot
	if b == nil || len(b.Nodes) != 3 {
		t.Fatalf("lab status -v shows no boot timeline of three nodes:\n%s", out)
	}
	if b.Quorum <= 0 || b.Quorum > create.Seconds() {
		t.Errorf("quorum at %.1f s, want within create's %s", b.Quorum, create.Round(time.Second))
	}
	for _, n := range b.Nodes {
		if n.Ready == nil || *n.Ready <= 0 || *n.Ready > n.SSH || n.SSH > n.CloudInit || n.CloudInit > b.Quorum {
			t.Errorf("%s: ready %v, ssh %.1f, cloud-init %.1f, quorum %.1f: want 0 < ready ≤ ssh ≤ cloud-init ≤ quorum",
				n.Node, n.Ready, n.SSH, n.CloudInit, b.Quorum)
		}
	}
	t.Logf("boot timeline (s after the domains started): %s", strings.TrimSpace(out[strings.Index(out, `"boot"`):]))
}
