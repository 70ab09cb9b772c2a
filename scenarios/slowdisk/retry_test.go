package slowdisk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
	"github.com/kthw-lab/lab/scenarios/measure"
	"github.com/kthw-lab/lab/scenarios/report"

	"syscall"
)

// quick is a backoff for tests: the same attempts, no real waits.
var quick = backoff{Attempts: defaultBackoff.Attempts, First: time.Millisecond, Max: 2 * time.Millisecond}

// Errors as lab.RunAsRoot returns them when the connection fails.
var (
	errHandshakeTimeout = fmt.Errorf("dialing ssh k8smaster1 (192.168.188.201:22): %w",
		fmt.Errorf("%w (%w)", context.DeadlineExceeded, errors.New("read tcp: use of closed network connection")))
	errRefused = fmt.Errorf("dialing ssh k8smaster1 (192.168.188.201:22): %w",
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
)

func TestTransient(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"handshake deadline", errHandshakeTimeout, true},
		{"refused", errRefused, true},
		{"reset", fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{"a command that failed", &labssh.RemoteError{Host: "k8smaster1", Cmd: "systemctl stop etcd", ExitStatus: 1}, false},
		{"a wrong host key", fmt.Errorf("dialing: %w", &labssh.HostKeyError{}), false},
		{"anything else", errors.New("parsing the probe's output"), false},
		{"joined with a command that failed", errors.Join(errRefused, &labssh.RemoteError{ExitStatus: 2}), false},
	} {
		if got := transient(t.Context(), tc.err); got != tc.want {
			t.Errorf("%s: transient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if transient(ctx, errRefused) {
		t.Errorf("transient after the caller's context ended = true, want false")
	}
}

// flaky is a node's SSH that fails its first fails dials with err, then
// runs every command (recording them).
type flaky struct {
	mu    sync.Mutex
	fails map[string]int
	err   error
	ran   map[string][]string
	// sent is the standard input of each node's last upload.
	sent map[string][]byte
}

func (f *flaky) exec(_ context.Context, n spec.Node, script string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails[n.Name] > 0 {
		f.fails[n.Name]--
		return "", f.err
	}
	f.ran[n.Name] = append(f.ran[n.Name], script)
	if strings.HasPrefix(script, "date") {
		return fmt.Sprintf("%d.0\n", time.Now().Unix()), nil
	}
	return "", nil
}

// upload is exec for a script with standard input, which it records in
// sent.
func (f *flaky) upload(ctx context.Context, n spec.Node, script string, stdin io.Reader) error {
	b, err := io.ReadAll(stdin)
	if err != nil {
		return err
	}
	if _, err := f.exec(ctx, n, script); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sent == nil {
		f.sent = map[string][]byte{}
	}
	f.sent[n.Name] = b
	return nil
}

func testCluster(f *flaky, b backoff) *cluster {
	st := &lab.State{Plan: spec.Plan{Nodes: []spec.Node{{Name: "k8smaster0"}, {Name: "k8smaster1"}, {Name: "k8smaster2"}}}}
	return &cluster{st: st, exec: f.exec, upload: f.upload, backoff: b}
}

// TestDialFailsTwiceThenWorks: an SSH dial that fails twice (a handshake
// deadline, a refused connection) and then works completes every step an
// arm takes over SSH on that node.
func TestDialFailsTwiceThenWorks(t *testing.T) {
	for _, cause := range []error{errHandshakeTimeout, errRefused} {
		f := &flaky{fails: map[string]int{"k8smaster1": 2}, err: cause, ran: map[string][]string{}}
		c := testCluster(f, quick)
		if err := c.start(t.Context()); err != nil {
			t.Fatalf("start with two failed dials (%v): %v", cause, err)
		}
		if _, err := c.clocks(t.Context()); err != nil {
			t.Fatalf("clocks: %v", err)
		}
		if _, err := c.journal(t.Context(), spec.Node{Name: "k8smaster1"}, time.Now()); err != nil {
			t.Fatalf("journal: %v", err)
		}
		for _, n := range []string{"k8smaster0", "k8smaster1", "k8smaster2"} {
			if len(f.ran[n]) < 2 {
				t.Errorf("%s ran %q, want start and the clock", n, f.ran[n])
			}
		}
		if f.fails["k8smaster1"] != 0 {
			t.Errorf("the failing dials were not all tried")
		}
	}
}

// TestDialThatKeepsFailing: the retries are bounded, and the error says
// how often it was tried and why it failed.
func TestDialThatKeepsFailing(t *testing.T) {
	f := &flaky{fails: map[string]int{"k8smaster1": 100}, err: errHandshakeTimeout, ran: map[string][]string{}}
	err := testCluster(f, quick).start(t.Context())
	if err == nil {
		t.Fatal("start succeeded with a node that never answers")
	}
	if got := 100 - f.fails["k8smaster1"]; got != quick.Attempts {
		t.Errorf("dial attempts = %d, want %d", got, quick.Attempts)
	}
	for _, want := range []string{"starting etcd on k8smaster1", "still failing after 5 attempts", "deadline exceeded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestCommandFailureIsNotRetried: a command that ran and failed fails at
// once; running it again would not change its answer.
func TestCommandFailureIsNotRetried(t *testing.T) {
	f := &flaky{fails: map[string]int{"k8smaster1": 100}, err: &labssh.RemoteError{Host: "k8smaster1", ExitStatus: 5}, ran: map[string][]string{}}
	if err := testCluster(f, quick).start(t.Context()); err == nil {
		t.Fatal("start succeeded")
	}
	if got := 100 - f.fails["k8smaster1"]; got != 1 {
		t.Errorf("attempts = %d, want 1", got)
	}
}

// armsRunner is a runner whose arms are scripted: fail names the arms
// that fail, and every write of the report is kept.
func armsRunner(arms []Arm, fail map[string]error, onArm func(Arm)) (*runner, *[]report.Report, *int) {
	var writes []report.Report
	resets := 0
	r := &runner{Options: Options{Arms: arms}}
	r.runArm = func(ctx context.Context, a Arm) (report.Arm, error) {
		if onArm != nil {
			onArm(a)
		}
		if err := fail[a.Name]; err != nil {
			return report.Arm{Name: a.Name}, err
		}
		return report.Arm{Name: a.Name, Profile: a.Profile, TimeToFirstLeader: measure.Seconds(time.Second)}, ctx.Err()
	}
	r.resetLab = func(context.Context) error { resets++; return nil }
	r.write = func(rep report.Report) error { writes = append(writes, rep); return nil }
	return r, &writes, &resets
}

// TestFailedArmLetsTheOthersRun: the hdd arm fails after its retries; the
// lab is reset, hdd-tuned still runs, the report is written after every
// arm, and the final report (and the error) name the failed arm and why.
func TestFailedArmLetsTheOthersRun(t *testing.T) {
	cause := fmt.Errorf("resetting etcd on k8smaster1: still failing after 5 attempts: %w", errHandshakeTimeout)
	r, writes, resets := armsRunner(Arms, map[string]error{"hdd": cause}, nil)
	rep := &report.Report{}
	err := r.runArms(t.Context(), rep)
	if err == nil || !strings.Contains(err.Error(), "hdd (failed: resetting etcd on k8smaster1") {
		t.Errorf("error = %v, want one naming hdd and its cause", err)
	}
	if len(rep.Arms) != 2 || rep.Arms[0].Name != "ssd" || rep.Arms[1].Name != "hdd-tuned" {
		t.Errorf("arms with results = %+v, want ssd and hdd-tuned", rep.Arms)
	}
	if len(rep.Missing) != 1 || rep.Missing[0].Name != "hdd" || !strings.Contains(rep.Missing[0].Reason, "deadline exceeded") {
		t.Errorf("missing = %+v, want hdd with its cause", rep.Missing)
	}
	if *resets != 1 {
		t.Errorf("lab resets = %d, want 1 (after the failed arm)", *resets)
	}
	if len(*writes) != 3 {
		t.Fatalf("report written %d times, want after each of the 3 arms", len(*writes))
	}
	first := (*writes)[0]
	if len(first.Arms) != 1 || len(first.Missing) != 2 || !strings.HasPrefix(first.Missing[0].Reason, "not run yet") {
		t.Errorf("report after the first arm = arms %d, missing %+v; want ssd and two arms not run yet", len(first.Arms), first.Missing)
	}
	last := (*writes)[2]
	var md bytes.Buffer
	if err := report.WriteMarkdown(&md, last, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Partial report: 1 arm of 3 arms have no results", "**hdd**: failed: resetting etcd on k8smaster1"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md does not say %q:\n%s", want, md.String())
		}
	}
}

// TestInterruptWritesTheArmsDone: Ctrl-C during the second arm writes the
// report of the first, with the others named as not run.
func TestInterruptWritesTheArmsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, writes, resets := armsRunner(Arms, nil, func(a Arm) {
		if a.Name == "hdd" {
			cancel()
		}
	})
	rep := &report.Report{}
	err := r.runArms(ctx, rep)
	if err == nil || !strings.Contains(err.Error(), "interrupted") || !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want interrupted", err)
	}
	if len(rep.Arms) != 1 || rep.Arms[0].Name != "ssd" {
		t.Errorf("arms = %+v, want ssd", rep.Arms)
	}
	want := []report.Missing{
		{Name: "hdd", Reason: "not finished: the run was interrupted"},
		{Name: "hdd-tuned", Reason: "not run: the run was interrupted"},
	}
	if fmt.Sprint(rep.Missing) != fmt.Sprint(want) {
		t.Errorf("missing = %+v, want %+v", rep.Missing, want)
	}
	if *resets != 0 {
		t.Errorf("an interrupted run reset the lab")
	}
	if n := len(*writes); n == 0 || fmt.Sprint((*writes)[n-1].Missing) != fmt.Sprint(want) {
		t.Errorf("last report written = %+v, want the missing arms %+v", *writes, want)
	}
}

// planCluster is testCluster with a real plan, for the steps that render
// the unit.
func planCluster(t *testing.T, f *flaky) *cluster {
	t.Helper()
	plan, err := spec.Defaults().Plan()
	if err != nil {
		t.Fatal(err)
	}
	c := testCluster(f, quick)
	c.st.Plan = *plan
	return c
}

// TestResetWritesTheArmsEnvironment: pre-vote off through the drop-in, and
// the lab's own etcd put back unless the arm brings its own.
func TestResetWritesTheArmsEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env       armEnv
		has, lack []string
	}{
		{armEnv{}, []string{"rm -f " + guest.ArmDropIn, "cp -p " + guest.LabEtcdBinary + " " + guest.EtcdBinary}, []string{"ETCD_PRE_VOTE"}},
		{armEnv{NoPreVote: true}, []string{"Environment=ETCD_PRE_VOTE=false", guest.ArmDropIn}, nil},
		{armEnv{OwnEtcd: true}, []string{"systemctl kill --signal=SIGKILL etcd 2>/dev/null || true\nsystemctl stop etcd\nrm -rf"}, []string{guest.LabEtcdBinary}},
	} {
		f := &flaky{fails: map[string]int{}, ran: map[string][]string{}}
		if err := planCluster(t, f).reset(t.Context(), 100*time.Millisecond, time.Second, tc.env); err != nil {
			t.Fatal(err)
		}
		script := strings.Join(f.ran["k8smaster0"], "\n")
		for _, want := range tc.has {
			if !strings.Contains(script, want) {
				t.Errorf("%+v: reset lacks %q:\n%s", tc.env, want, script)
			}
		}
		for _, not := range tc.lack {
			if strings.Contains(script, not) {
				t.Errorf("%+v: reset has %q", tc.env, not)
			}
		}
	}
}

// TestInstallEtcdRetriesAndChecks: an upload whose connection fails twice
// is retried with the whole file; the guest checks the copy's sha256
// before it replaces the etcd it runs.
func TestInstallEtcdRetriesAndChecks(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(bin, []byte("etcd 3.4 binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	fails := map[string]int{"k8smaster2": 2}
	got := map[string]string{}
	c := testCluster(&flaky{ran: map[string][]string{}}, quick)
	c.upload = func(_ context.Context, n spec.Node, script string, stdin io.Reader) error {
		mu.Lock()
		defer mu.Unlock()
		if fails[n.Name] > 0 {
			fails[n.Name]--
			return errRefused
		}
		b, _ := io.ReadAll(stdin)
		got[n.Name] = string(b)
		if !strings.Contains(script, "echo 'abc123  /usr/local/bin/etcd.arm' | sha256sum -c") ||
			strings.Index(script, "sha256sum -c") > strings.Index(script, "mv /usr/local/bin/etcd.arm") {
			t.Errorf("script does not check the copy before it moves it:\n%s", script)
		}
		return nil
	}
	if err := c.installEtcd(t.Context(), bin, "abc123"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"k8smaster0", "k8smaster1", "k8smaster2"} {
		if got[n] != "etcd 3.4 binary" {
			t.Errorf("%s received %q", n, got[n])
		}
	}
}

// TestInstallEtcdSkipsAGuestThatHasIt: a guest whose etcd already has the
// sum (the previous arm ran the same version) gets no upload; the others do.
func TestInstallEtcdSkipsAGuestThatHasIt(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "etcd")
	if err := os.WriteFile(bin, []byte("etcd 3.4 binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := &flaky{ran: map[string][]string{}}
	c := testCluster(f, quick)
	has := func(_ context.Context, n spec.Node, script string) (string, error) {
		out, err := f.exec(context.Background(), n, script)
		if n.Name == "k8smaster1" && strings.Contains(script, "echo 'abc123  /usr/local/bin/etcd' | sha256sum -c") &&
			strings.Contains(script, "test -e "+guest.LabEtcdBinary) {
			return "installed\n", err
		}
		return out, err
	}
	c.exec = has
	var mu sync.Mutex
	uploaded := map[string]bool{}
	c.upload = func(_ context.Context, n spec.Node, _ string, _ io.Reader) error {
		mu.Lock()
		defer mu.Unlock()
		uploaded[n.Name] = true
		return nil
	}
	if err := c.installEtcd(t.Context(), bin, "abc123"); err != nil {
		t.Fatal(err)
	}
	if uploaded["k8smaster1"] || !uploaded["k8smaster0"] || !uploaded["k8smaster2"] {
		t.Errorf("uploaded to %v, want k8smaster0 and k8smaster2 only", uploaded)
	}
}
