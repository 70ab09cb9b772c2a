package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"
	"github.com/kthw-lab/lab/lab/preflight"
)

// badInput is one command line lab must refuse: its exit status, and
// substrings of stderr that name the problem and the fix.
type badInput struct {
	name string
	args []string
	env  []string // extra environment, e.g. "LAB_NAME="
	code int
	want []string // in stderr: the problem and the fix
	not  []string // not in stderr: a later check ran first
	// after are commands run after the case, before the battery's last
	// snapshot: the destroy that removes what a create may have made.
	after [][]string
}

// battery is where a battery runs: its own state and cache directories,
// seeded with another lab's files that no refusal may touch.
type battery struct {
	root, state, cache string
	// victim is a directory next to the state directory, where a lab
	// name like ../victim would lead.
	victim string
	// extra describes more of the host (the integration tier: libvirt's
	// objects and pool directories); nil in the unit tier.
	extra func(t *testing.T) string
}

// Set by the integration tier: hostSnapshot describes libvirt's domains,
// networks, pools and volumes with their XML, and the pools' directories;
// extraCases adds the cases that need the host (a subnet on a route the
// test adds).
var (
	hostSnapshot func(t *testing.T) string
	extraCases   func(t *testing.T, b *battery) []badInput
)

func newBattery(t *testing.T) *battery {
	t.Helper()
	root := t.TempDir()
	b := &battery{
		root:   root,
		state:  filepath.Join(root, "home", "state"),
		cache:  filepath.Join(root, "home", "cache"),
		victim: filepath.Join(root, "home", "victim"),
		extra:  hostSnapshot,
	}
	files := map[string]string{
		filepath.Join(b.state, "other", "state.json"):        `{"name":"other"}`,
		filepath.Join(b.state, "other", "pki", "ca-key.pem"): "not a real key",
		filepath.Join(b.victim, "precious.txt"):              "a user's file",
		filepath.Join(b.cache, "README"):                     "the battery's cache: empty, so a command that gets past the checks stops at the cache",
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// run runs the real binary with the battery's directories.
func (b *battery) run(t *testing.T, c badInput) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(labBin, c.args...)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(b.root, "home"),
		"LAB_STATE_DIR=" + b.state, "LAB_CACHE_DIR=" + b.cache}
	cmd.Env = append(env, c.env...)
	cmd.Dir = b.root
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("running lab: %v", err)
	}
	return out.String(), errb.String(), code
}

// snapshot describes everything the battery must leave as it was.
func (b *battery) snapshot(t *testing.T) string {
	t.Helper()
	s := "state dir:\n" + tree(t, b.state) + "victim:\n" + tree(t, b.victim) + "cache dir:\n" + tree(t, b.cache)
	if b.extra != nil {
		s += b.extra(t)
	}
	return s
}

// tree lists dir: each path with its mode, size, and the hash of a small
// file or the target of a symlink.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(&sb, "%s: absent\n", path)
			return nil
		}
		if err != nil {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s %d", path, info.Mode(), info.Size())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			line += " -> " + target
		case info.Mode().IsRegular() && info.Size() <= 1<<20:
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			line += " " + hex.EncodeToString(sum[:8])
		}
		sb.WriteString(line + "\n")
		return nil
	})
	if err != nil {
		t.Fatalf("listing %s: %v", dir, err)
	}
	return sb.String()
}

// runBattery runs every case against the real binary, and checks that the
// host is the same before and after the whole battery.
func runBattery(t *testing.T, b *battery, cases []badInput) {
	before := b.snapshot(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := b.run(t, c)
			first, _, _ := strings.Cut(stderr, "\n")
			if i := strings.Index(stderr, "lab: "); i >= 0 {
				first, _, _ = strings.Cut(stderr[i:], "\n") // the error, after any progress lines
			}
			if strings.HasSuffix(first, ":") { // "invalid lab settings:" and the problems below
				_, rest, _ := strings.Cut(stderr[strings.Index(stderr, first):], "\n")
				next, _, _ := strings.Cut(rest, "\n")
				first += " " + next
			}
			t.Logf("| `lab %s` | %d | %s |", shellWords(c), code, first)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, c.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing (a refusal goes to stderr)", stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			for _, n := range c.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has %q, a later check's, so the checks ran out of order:\n%s", n, stderr)
				}
			}
			if lines := strings.Count(stderr, "\n"); lines > 10 {
				t.Errorf("stderr has %d lines, want a short message:\n%s", lines, stderr)
			}
			for _, args := range c.after {
				_, stderr, code := b.run(t, badInput{args: args, env: c.env})
				if code != 0 {
					t.Errorf("lab %s after the case: exit %d: %s", strings.Join(args, " "), code, stderr)
				}
			}
		})
	}
	after := b.snapshot(t)
	if before != after {
		t.Errorf("the battery changed the host:\n%s", golden.DiffLines(before, after))
	}
}

// shellWords renders a case's command line for the report's table.
func shellWords(c badInput) string {
	var words []string
	for _, e := range c.env {
		words = append(words, strconv.Quote(e))
	}
	for _, a := range c.args {
		if a == "" || strings.ContainsAny(a, " '\"") {
			a = strconv.Quote(a)
		}
		words = append(words, a)
	}
	return strings.Join(words, " ")
}

const (
	seeHelp   = "run 'lab --help'"
	notCache  = "not in the cache"
	notDigits = "lab create --help"
)

// TestBattery refuses at least 60 bad command lines across every command
// with exit status 2, a message naming the problem and the fix, and no
// change to the state dir, the cache dir or (integration tier) libvirt.
func TestBattery(t *testing.T) {
	b := newBattery(t)
	raw := filepath.Join(b.root, "disk.raw")
	mbr := make([]byte, 1024)
	mbr[510], mbr[511] = 0x55, 0xaa
	if err := os.WriteFile(raw, mbr, 0o644); err != nil {
		t.Fatal(err)
	}
	cpus := runtime.NumCPU()
	host, err := preflight.LocalHost()
	if err != nil {
		t.Fatal(err)
	}
	tooMuch := host.MemoryMiB/3 + 1 // × 3 nodes is more than the host
	create := func(args ...string) []string {
		return append([]string{"--lab", "refbat", "create", "--accel", "tcg"}, args...)
	}
	cases := []badInput{
		// Unknown commands and flags.
		{name: "typo of destroy", args: []string{"destory"}, code: 2, want: []string{`unknown command "destory"`, "usage: lab [global options] COMMAND", seeHelp}},
		{name: "typo of status", args: []string{"statsu"}, code: 2, want: []string{`unknown command "statsu"`, seeHelp}},
		{name: "help for no command", args: []string{"help", "destory"}, code: 2, want: []string{`unknown command "destory"`, seeHelp}},
		{name: "unknown image command", args: []string{"image", "bogus"}, code: 2, want: []string{`unknown command "image bogus"`, "run 'lab image --help'"}},
		{name: "unknown disk command", args: []string{"disk", "frob"}, code: 2, want: []string{`unknown command "disk frob"`, "run 'lab disk --help'"}},
		{name: "unknown check command", args: []string{"check", "perf2"}, code: 2, want: []string{`unknown command "check perf2"`, "run 'lab check --help'"}},
		{name: "unknown scenario command", args: []string{"scenario", "run"}, code: 2, want: []string{`unknown command "scenario run"`, "run 'lab scenario --help'"}},
		{name: "unknown create flag", args: []string{"create", "--bogus"}, code: 2, want: []string{"unknown flag --bogus", "run 'lab create --help'"}},
		{name: "unknown global flag", args: []string{"--bogus", "status"}, code: 2, want: []string{"unknown flag --bogus", seeHelp}},
		{name: "unknown destroy flag", args: []string{"destroy", "--frobnicate"}, code: 2, want: []string{"unknown flag --frobnicate", "run 'lab destroy --help'"}},
		{name: "unknown status flag", args: []string{"status", "-x"}, code: 2, want: []string{"unknown flag --x", "run 'lab status --help'"}},
		{name: "flag without its value", args: []string{"render", "--out"}, code: 2, want: []string{"flag needs an argument", "run 'lab render --help'"}},
		{name: "missing --out", args: []string{"render"}, code: 2, want: []string{"flag --out is required", "run 'lab render --help'"}},
		{name: "missing --version", args: []string{"etcd", "fetch"}, code: 2, want: []string{"flag --version is required", "run 'lab etcd fetch --help'"}},
		{name: "missing --profile", args: []string{"disk", "set", "--all"}, code: 2, want: []string{"flag --profile is required", "run 'lab disk set --help'"}},
		{name: "lab name as an argument", args: []string{"destroy", "mylab"}, code: 2, want: []string{`unexpected argument "mylab"`, "lab destroy --lab mylab"}},
		{name: "argument to status", args: []string{"status", "extra"}, code: 2, want: []string{`unexpected argument "extra"`, "run 'lab status --help'"}},
		{name: "ssh without a node", args: []string{"ssh"}, code: 2, want: []string{"which node?", "run 'lab ssh --help'"}},
		{name: "logs without a node", args: []string{"logs"}, code: 2, want: []string{"name one node", "run 'lab logs --help'"}},
		// Malformed values.
		{name: "nodes not a number", args: create("--nodes", "abc"), code: 2, want: []string{`invalid value "abc" for flag --nodes`, notDigits}},
		{name: "cpus not an integer", args: create("--cpus", "1.5"), code: 2, want: []string{`invalid value "1.5" for flag --cpus`, notDigits}},
		{name: "memory with a unit", args: create("--memory", "1G"), code: 2, want: []string{`invalid value "1G" for flag --memory`, notDigits}},
		{name: "nodes beyond int64", args: create("--nodes", "99999999999999999999"), code: 2, want: []string{"for flag --nodes", notDigits}},
		{name: "duration without unit", args: []string{"check", "perf", "--duration", "5"}, code: 2, want: []string{`invalid value "5" for flag --duration`, "run 'lab check perf --help'"}},
		{name: "max-time not a duration", args: []string{"disk", "probe", "--max-time", "soon"}, code: 2, want: []string{`invalid value "soon" for flag --max-time`, "run 'lab disk probe --help'"}},
		{name: "subnet not a subnet", args: create("--subnet", "banana"), code: 2, want: []string{`--subnet "banana": not a subnet`, "such as 192.168.199.0/24"}},
		{name: "subnet with host bits", args: create("--subnet", "192.168.192.5/24"), code: 2, want: []string{"host bits are set", "use the network address, 192.168.192.0/24"}},
		{name: "public subnet", args: create("--subnet", "8.8.8.0/24"), code: 2, want: []string{"not inside a private range", "10.0.0.0/8"}},
		{name: "IPv6 subnet", args: create("--subnet", "fd00::/64"), code: 2, want: []string{"only IPv4", "such as 192.168.199.0/24"}},
		{name: "output format", args: []string{"--output", "yaml", "version"}, code: 2, want: []string{`--output "yaml" is not supported`, "use text or json"}},
		{name: "connect without a host", args: []string{"--connect", "qemu+ssh:///system", "status"}, code: 2, want: []string{"no host", "write qemu+ssh://user@host/system"}},
		{name: "connect with an unknown option", args: []string{"--connect", "qemu+ssh://root@h/system?bogus=1", "status"}, code: 2, want: []string{"unknown option bogus=", "the options are socket="}},
		{name: "connect with a bad port", args: []string{"--connect", "qemu+ssh://root@h:99999/system", "status"}, code: 2, want: []string{`port "99999" is not a TCP port`, "leave the port out"}},
		{name: "connect over tcp", args: []string{"--connect", "qemu+tcp://h/system", "destroy"}, code: 2, want: []string{"the tcp transport is not supported", "use qemu+ssh://user@host/system"}},
		{name: "verbose and quiet", args: []string{"-v", "-q", "version"}, code: 2, want: []string{"contradict each other", "pick one"}},
		{name: "data pool", args: create("--data-pool", "nvme"), code: 2, want: []string{`--data-pool "nvme": unknown pool`, `use "ssd" or "hdd"`}},
		{name: "network mode", args: create("--network-mode", "bridge"), code: 2, want: []string{"unknown network mode", `use "isolated"`}},
		{name: "accelerator", args: []string{"--lab", "refbat", "create", "--accel", "hvf"}, code: 2, want: []string{"unknown accelerator", `"auto", "kvm" or "tcg"`}},
		{name: "one directory for both pools", args: create("--ssd-path", "/srv/pool", "--hdd-path", "/srv/pool"), code: 2, want: []string{"the same directory as --ssd-path", "different directories"}},
		{name: "root as pool", args: create("--hdd-path", "/"), code: 2, want: []string{"the root directory cannot be a pool", "a directory of its own"}},
		// Names.
		{name: "empty --lab", args: []string{"--lab", "", "create"}, code: 2, want: []string{"the lab name is empty", `use a short name such as "kthw"`}},
		{name: "empty LAB_NAME", args: []string{"create"}, env: []string{"LAB_NAME="}, code: 2, want: []string{"the lab name is empty", "such as"}},
		{name: "path-traversing --lab", args: []string{"--lab", "../victim", "create"}, code: 2, want: []string{`--lab "../victim"`, "starting with a letter"}},
		{name: "--lab .", args: []string{"--lab", ".", "create"}, code: 2, want: []string{`--lab "."`, "starting with a letter"}},
		{name: "--lab ..", args: []string{"--lab", "..", "render", "--out", "out"}, code: 2, want: []string{`--lab ".."`, "starting with a letter"}},
		{name: "--lab with a slash", args: []string{"--lab", "a/b", "create"}, code: 2, want: []string{`--lab "a/b"`, "starting with a letter"}},
		{name: "upper-case --lab", args: []string{"--lab", "Kthw", "create"}, code: 2, want: []string{`--lab "Kthw"`, "lower-case"}},
		{name: "long --lab", args: []string{"--lab", strings.Repeat("a", 40), "create"}, code: 2, want: []string{"--lab", "use at most"}},
		// Numeric ranges.
		{name: "100000 cpus", args: create("--cpus", "100000"), code: 2, want: []string{"--cpus 100000: more than the 255 vCPUs", "use 2"}},
		{name: "zero cpus", args: create("--cpus", "0"), code: 2, want: []string{"--cpus 0: a node needs at least one vCPU", "use 2"}},
		{name: "negative cpus", args: create("--cpus", "-1"), code: 2, want: []string{"--cpus -1", "use 2"}},
		{name: "more cpus than the host", args: create("--cpus", strconv.Itoa(cpus+1)), code: 2, want: []string{fmt.Sprintf("than the %d CPUs of this host", cpus), fmt.Sprintf("use at most %d", cpus)}},
		{name: "a terabyte per node", args: create("--memory", "1048576"), code: 2, want: []string{"--memory 1048576", "MiB of this host", "use at most --memory"}},
		{name: "memory × nodes beyond the host", args: create("--memory", strconv.Itoa(tooMuch)), code: 2, want: []string{fmt.Sprintf("3 nodes × %d MiB", tooMuch), "use at most --memory"}},
		{name: "too little memory", args: create("--memory", "128"), code: 2, want: []string{"below the 256 MiB", "use at least 256"}},
		{name: "1001 nodes", args: create("--nodes", "1001"), code: 2, want: []string{"--nodes 1001: more than the 9 members", "use 1, 3, 5, 7 or 9"}},
		{name: "eleven nodes", args: create("--nodes", "11"), code: 2, want: []string{"--nodes 11", "use 1, 3, 5, 7 or 9"}},
		{name: "zero nodes", args: create("--nodes", "0"), code: 2, want: []string{"--nodes 0: a cluster needs at least one member", "use 1, 3 or 5"}},
		{name: "negative nodes", args: create("--nodes", "-3"), code: 2, want: []string{"--nodes -3", "use 1, 3 or 5"}},
		{name: "even nodes", args: create("--nodes", "4"), code: 2, want: []string{"odd member count", "use 3 or 5"}},
		{name: "election timeout that wraps", args: create("--election-timeout", "288230376151712504"), code: 2, want: []string{"--election-timeout 288230376151712504: too large", "use at most 50000"}},
		{name: "heartbeat that wraps", args: create("--heartbeat-interval", "9223372036854775807"), code: 2, want: []string{"--heartbeat-interval 9223372036854775807: too large", "use at most"}},
		{name: "negative election timeout", args: create("--election-timeout", "-1000"), code: 2, want: []string{"--election-timeout -1000: must be positive", "use 1000"}},
		{name: "zero heartbeat", args: create("--heartbeat-interval", "0"), code: 2, want: []string{"--heartbeat-interval 0: must be positive", "use 100"}},
		{name: "election under 5 × heartbeat", args: create("--election-timeout", "400"), code: 2, want: []string{"at least 5 × --heartbeat-interval", "use at least 500"}},
		{name: "election over etcd's limit", args: create("--heartbeat-interval", "1000", "--election-timeout", "50001"), code: 2, want: []string{"above 50000 ms", "use at most 50000"}},
		{name: "heartbeat over etcd's limit", args: create("--heartbeat-interval", "20000"), code: 2, want: []string{"--heartbeat-interval 20000", "use at most 10000"}},
		{name: "probe count -1", args: []string{"disk", "probe", "--count", "-1"}, code: 2, want: []string{"--count -1: the probe needs at least one write", "use 10029"}},
		{name: "probe count 0", args: []string{"disk", "probe", "--count", "0"}, code: 2, want: []string{"--count 0", "use 10029"}},
		{name: "probe max-time -5s", args: []string{"disk", "probe", "--max-time", "-5s"}, code: 2, want: []string{"--max-time -5s: must be positive", "use 20s"}},
		{name: "probe max-time 0", args: []string{"disk", "probe", "--max-time", "0s"}, code: 2, want: []string{"--max-time 0s: must be positive", "use 20s"}},
		{name: "negative fsync latency", args: []string{"disk", "set", "--all", "--profile", "hdd", "--fsync-latency", "-1s"}, code: 2, want: []string{"--fsync-latency -1s: must be positive", "use 1s"}},
		{name: "fsync latency out of range", args: []string{"disk", "set", "--all", "--profile", "hdd", "--fsync-latency", "5m"}, code: 2, want: []string{"--fsync-latency 5m0s is out of range", "use 10ms to 30s"}},
		{name: "unknown disk profile", args: []string{"disk", "set", "--all", "--profile", "floppy"}, code: 2, want: []string{`unknown disk profile "floppy"`, "use ssd or hdd"}},
		{name: "check perf -1s", args: []string{"check", "perf", "--duration", "-1s"}, code: 2, want: []string{"--duration -1s: must be positive", "use 60s"}},
		{name: "check perf 0s", args: []string{"check", "perf", "--duration", "0s"}, code: 2, want: []string{"--duration 0s: must be positive", "use 60s"}},
		{name: "check perf load", args: []string{"check", "perf", "--load", "huge"}, code: 2, want: []string{`unknown check perf load "huge"`, "use one of s, m, l, xl"}},
		{name: "check perf prefix /", args: []string{"check", "perf", "--prefix", "/"}, code: 2, want: []string{`--prefix "/"`, "use a prefix of its own"}},
		{name: "negative log lines", args: []string{"logs", "-n", "-1", "k8smaster0"}, code: 2, want: []string{"--lines -1: cannot be negative", "use 0 for all lines"}},
		// Files.
		{name: "/etc/passwd as image", args: create("--image", "/etc/passwd"), code: 2, want: []string{`--image "/etc/passwd": not a disk image`, "give a qcow2 image"}},
		{name: "/dev/null as image", args: create("--image", "/dev/null"), code: 2, want: []string{"not a regular file", "give a qcow2 image"}},
		{name: "missing image file", args: create("--image", "/nonexistent/base.qcow2"), code: 2, want: []string{"no such file", "give a qcow2 image"}},
		{name: "relative image path", args: create("--image", "images/base.qcow2"), code: 2, want: []string{"a relative path", "give the full path"}},
		{name: "raw image", args: create("--image", raw), code: 2, want: []string{"a raw disk image", "qemu-img convert -O qcow2"}},
		{name: "/etc/passwd as etcd", args: create("--etcd-binary", "/etc/passwd"), code: 2, want: []string{"--etcd-binary", "/etc/passwd is not executable"}},
		{name: "ls as etcd", args: create("--etcd-binary", "/bin/ls"), code: 2, want: []string{"--etcd-binary", "no version in its output"}},
		{name: "missing etcd", args: create("--etcd-binary", "/nonexistent/etcd"), code: 2, want: []string{"does not exist", "lab etcd build"}},
		// Order: names and flags first, then ranges, then files; the cache
		// and libvirt only after all of them.
		{name: "flags before files", args: create("--cpus", "100000", "--image", "/etc/passwd"), code: 2, want: []string{"--cpus 100000"}, not: []string{"/etc/passwd"}},
		{name: "host size before files", args: create("--memory", "1048576", "--image", "/etc/passwd"), code: 2, want: []string{"--memory 1048576"}, not: []string{"/etc/passwd"}},
		{name: "image before etcd", args: create("--image", "/etc/passwd", "--etcd-binary", "/etc/passwd"), code: 2, want: []string{"--image"}, not: []string{"--etcd-binary"}},
		{name: "files before the cache", args: create("--etcd-binary", "/etc/passwd"), code: 2, want: []string{"--etcd-binary"}, not: []string{notCache}},
		{name: "render checks too", args: []string{"--lab", "refbat", "render", "--out", "out", "--nodes", "2"}, code: 2, want: []string{"--nodes 2", "use 1 or 3"}},
	}
	if extraCases != nil {
		cases = append(cases, extraCases(t, b)...)
	}
	if len(cases) < 60 {
		t.Fatalf("the battery has %d cases, want at least 60", len(cases))
	}
	runBattery(t, b, cases)
}
