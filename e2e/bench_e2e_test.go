//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
)

// BenchmarkCreate measures `lab create` (three nodes, TCG, one vCPU and
// 768 MiB each) against the floor of the same run: the same kernel and
// image booted three at once with cloud-init masked, timed until systemd
// reaches multi-user.target on every console. It prints per node a boot
// timeline read from the serial consoles as they are written (kernel,
// /init, systemd, cloud-init's stages, the readiness message, sshd, etcd)
// and from the guest (cloud-init analyze, systemd-analyze), the five
// slowest cloud-init modules and systemd units, and create ÷ floor. The
// floor boots twice, before and after create, and the ratio is to their
// mean: one boot of three emulated VMs varies by seconds from run to run.
// Beside the wall times it prints the CPU the guests' qemu processes used
// in each window and how busy the host was: with the host's CPUs
// saturated, as three emulated VMs on two cores are, the wall-time ratio
// follows the ratio of CPU work, and only work taken out of the window
// moves it. Figures, not assertions: make bench (one iteration is the
// point).
func BenchmarkCreate(b *testing.B) {
	for range b.N {
		before := bootFloor(b)
		state := b.TempDir()
		run, err := timedCreate(b, state, "--subnet", subnet, "--accel", "tcg", "--cpus", "1", "--memory", "768")
		if err != nil {
			timedLab(b, state, "destroy")
			b.Fatalf("lab create: %v\n%s", err, run.out)
		}
		guest := guestReport(b, state)
		start := time.Now()
		if out, _, err := timedLab(b, state, "destroy"); err != nil {
			b.Fatalf("lab destroy: %v\n%s", err, out)
		}
		destroy := time.Since(start)
		after := bootFloor(b)
		floorBefore, floorAfter := before.wall, after.wall
		floor := (floorBefore + floorAfter) / 2
		floorCPU := (before.cpu.guest + after.cpu.guest) / 2

		for _, s := range run.steps {
			b.Logf("create step %-45s %s", s[0], s[1])
		}
		b.Logf("boot timeline, seconds after the domains started (console; cloud-init stage durations from cloud-init.log):\n%s",
			timelineTable(run, guest))
		b.Logf("floor (3 VMs, same kernel and image, cloud-init masked, to multi-user.target on every console): %s, the mean of %s before create and %s after\nbefore:\n%s\nafter:\n%s",
			floor.Round(100*time.Millisecond), floorBefore.Round(100*time.Millisecond), floorAfter.Round(100*time.Millisecond), before.lines, after.lines)
		for _, n := range sortedKeys(guest) {
			g := guest[n]
			b.Logf("%s: five slowest cloud-init modules (cloud-init.log):\n%s", n, top(g.cloudBlame, 5))
			b.Logf("%s: five slowest systemd units (systemd-analyze blame):\n%s", n, top(g.systemdBlame, 5))
			b.Logf("%s: systemd-analyze critical-chain:\n%s", n, g.criticalChain)
		}
		total := run.quorum
		b.Logf("lab create: %s (domains started → quorum: %s); floor %s (mean of %s and %s); ratio (domains started → quorum) ÷ floor = %.2f (%.2f–%.2f against either floor); lab destroy: %s; load average now: %s",
			run.total.Round(time.Second), total.Round(100*time.Millisecond), floor.Round(100*time.Millisecond),
			floorBefore.Round(100*time.Millisecond), floorAfter.Round(100*time.Millisecond),
			total.Seconds()/floor.Seconds(), total.Seconds()/max(floorBefore, floorAfter).Seconds(), total.Seconds()/min(floorBefore, floorAfter).Seconds(),
			destroy.Round(100*time.Millisecond), loadAverage())
		b.Logf("guest CPU, the user+system time of the three qemu processes from their start: create %s to quorum, floor %s to multi-user.target (mean of %s and %s); create ÷ floor = %.2f. The host's CPUs were busy %.0f%% of create's window (domains started → quorum) and %.0f%% / %.0f%% of the floors': when both are saturated, the wall-time ratio follows the CPU ratio (when the qemu processes are all that runs, it is the CPU ratio × the floors' busy ÷ create's busy)",
			run.cpu.guest.Round(100*time.Millisecond), floorCPU.Round(100*time.Millisecond),
			before.cpu.guest.Round(100*time.Millisecond), after.cpu.guest.Round(100*time.Millisecond),
			run.cpu.guest.Seconds()/floorCPU.Seconds(), 100*run.cpu.busy, 100*before.cpu.busy, 100*after.cpu.busy)
		b.ReportMetric(floor.Seconds(), "floor-s")
		b.ReportMetric(run.cpu.guest.Seconds()/floorCPU.Seconds(), "cpu-create/floor")
		b.ReportMetric(run.total.Seconds(), "create-s")
		b.ReportMetric(total.Seconds(), "start-to-quorum-s")
		b.ReportMetric(total.Seconds()/floor.Seconds(), "quorum/floor")
		b.ReportMetric(destroy.Seconds(), "destroy-s")
	}
}

// milestone is a console line that marks a point of a boot.
type milestone struct {
	name string
	re   *regexp.Regexp
}

// milestones are the points of a lab node's first boot that its serial
// console shows, in boot order. systemd 252 names units by unit name and
// shortens long lines ("cloud-init.servi…"), so the patterns are prefixes.
var milestones = []milestone{
	{"kernel", regexp.MustCompile(`Linux version `)},
	{"/init", regexp.MustCompile(`Run /init as init process`)},
	{"systemd", regexp.MustCompile(`Welcome to .*Debian`)},
	{"ci-local", regexp.MustCompile(`Starting cloud-init-local\.`)},
	{"ci-init", regexp.MustCompile(`Starting cloud-init\.s`)},
	{"ready", regexp.MustCompile(regexp.QuoteMeta("lab: node ready after "))},
	{"sshd", regexp.MustCompile(`Started ssh\.s`)},
	{"etcd", regexp.MustCompile(`Started etcd\.s`)},
	{"ci-done", regexp.MustCompile(`Reached target cloud-init\.t`)},
}

// ansi matches the escape sequences systemd colours its status lines with.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// consoleWatch records, for a set of console logs, when each milestone
// first appears, by polling the files as virtlogd writes them.
type consoleWatch struct {
	mu    sync.Mutex
	seen  map[string]map[string]time.Time // file → milestone → time
	stop  chan struct{}
	done  chan struct{}
	files map[string]string // name → path
	// cpu is, per node and milestone, the CPU its qemu process had used
	// when the milestone was seen; domain names a node's domain.
	cpu    map[string]map[string]time.Duration
	domain func(node string) string
}

// watchConsoles watches the nodes' console logs (node → path) for the
// milestones and reads, at each, the node's qemu CPU (domain names a
// node's domain).
func watchConsoles(files map[string]string, ms []milestone, domain func(node string) string) *consoleWatch {
	w := &consoleWatch{seen: map[string]map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{}), files: files,
		cpu: map[string]map[string]time.Duration{}, domain: domain}
	for n := range files {
		w.seen[n] = map[string]time.Time{}
		w.cpu[n] = map[string]time.Duration{}
	}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			for n, p := range files {
				data, _ := os.ReadFile(p)
				// systemd colours unit names on the console.
				data = ansi.ReplaceAll(data, nil)
				now := time.Now()
				w.mu.Lock()
				for _, m := range ms {
					if _, ok := w.seen[n][m.name]; !ok && m.re.Match(data) {
						w.seen[n][m.name] = now
						if cpu, err := domainCPU(w.domain(n)); err == nil {
							w.cpu[n][m.name] = cpu
						}
					}
				}
				w.mu.Unlock()
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *consoleWatch) Stop() map[string]map[string]time.Time {
	close(w.stop)
	<-w.done
	return w.seen
}

// createRun is one timed `lab create`.
type createRun struct {
	out     string
	steps   [][2]string
	total   time.Duration
	started time.Time     // when create reported its domains started
	quorum  time.Duration // from started to create's report that the quorum holds
	seen    map[string]map[string]time.Time
	cpu     cpuUse // domains started → quorum
	// nodeCPU is, per node, its qemu CPU at each milestone and, as
	// "quorum", when create reported the quorum.
	nodeCPU map[string]map[string]time.Duration
}

// timedCreate runs lab create, reading its progress lines as they come to
// know when the domains started and when the quorum held (create waits for
// it beside the nodes' SSH checks, so it need not be create's last step),
// and watches the consoles meanwhile.
func timedCreate(b *testing.B, state string, args ...string) (createRun, error) {
	var run createRun
	var hostStart, hostQuorum hostTicks
	var quorumAt time.Time
	var quorumErr error
	run.nodeCPU = map[string]map[string]time.Duration{}
	files := map[string]string{}
	for _, n := range []string{"k8smaster0", "k8smaster1", "k8smaster2"} {
		files[n] = filepath.Join(state, labName, "console", n+".log")
	}
	cmd := exec.Command(labBin, append([]string{"--lab", labName, "--state-dir", state, "create"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run, err
	}
	domain := func(n string) string { return labName + "-" + n }
	nodes := sortedKeys(files)
	watch := watchConsoles(files, milestones, domain)
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			l := sc.Text()
			errb.WriteString(l + "\n")
			if m := stepLine.FindStringSubmatch(l); m != nil {
				run.steps = append(run.steps, [2]string{m[1], m[2]})
				switch m[1] {
				case "starting domains":
					run.started = time.Now()
					hostStart = readHostTicks()
				case "waiting for etcd quorum":
					quorumAt, hostQuorum = time.Now(), readHostTicks()
					for _, n := range nodes {
						cpu, err := domainCPU(domain(n))
						quorumErr = errors.Join(quorumErr, err)
						run.nodeCPU[n] = map[string]time.Duration{"quorum": cpu}
					}
				}
			}
		}
	}()
	err := cmd.Wait()
	end := time.Now()
	pw.Close()
	<-lines
	run.seen = watch.Stop()
	run.total = end.Sub(start)
	run.out = out.String() + errb.String()
	if err != nil {
		return run, err
	}
	if quorumAt.IsZero() || quorumErr != nil {
		b.Fatalf("create succeeded, but its quorum could not be timed (its line seen: %v): %v\n%s", !quorumAt.IsZero(), quorumErr, run.out)
	}
	if run.started.IsZero() {
		run.started = start
	}
	run.quorum = quorumAt.Sub(run.started)
	run.cpu.busy = hostQuorum.busySince(hostStart)
	for n, at := range watch.cpu {
		for m, cpu := range at {
			run.nodeCPU[n][m] = cpu
		}
		run.cpu.guest += run.nodeCPU[n]["quorum"]
	}
	return run, nil
}

var stepLine = regexp.MustCompile(`^✓ (.+) \(([0-9.]+m?s|[0-9]+m[0-9.]+s)\)$`)

// timedLab runs the CLI for the e2e lab and returns its output and the
// step lines ("✓ step (1.2s)") it printed on stderr.
func timedLab(b *testing.B, state string, args ...string) (string, [][2]string, error) {
	cmd := exec.Command(labBin, append([]string{"--lab", labName, "--state-dir", state}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var steps [][2]string
	for _, line := range strings.Split(errb.String(), "\n") {
		if m := stepLine.FindStringSubmatch(line); m != nil {
			steps = append(steps, [2]string{m[1], m[2]})
		}
	}
	if err != nil {
		return out.String() + errb.String(), steps, err
	}
	return out.String(), steps, nil
}

// guestFacts are what a node says about its own boot.
type guestFacts struct {
	stages        map[string]float64 // cloud-init stage → seconds
	cloudBlame    []string
	systemdBlame  []string
	criticalChain string
	systemdTotal  string
	// active is when a milestone's unit became active, after the kernel
	// started: the console does not always show etcd, and cloud-init's
	// final stage ends after create has stopped watching it.
	active map[string]time.Duration
}

// activeUnits are the milestones read from the guest when the console
// has not shown them.
var activeUnits = map[string]string{"etcd": "etcd", "ci-done": "cloud-final"}

// guestReport asks each node for cloud-init's and systemd's account of the
// boot. cloud-init's config and final stages run after the node is ready,
// so it waits for them first.
func guestReport(b *testing.B, state string) map[string]guestFacts {
	out := map[string]guestFacts{}
	run := func(node, cmd string) string {
		s, _, err := timedLab(b, state, "ssh", node, "--", cmd)
		if err != nil {
			b.Logf("%s on %s: %v\n%s", cmd, node, err, s)
		}
		return s
	}
	for _, n := range []string{"k8smaster0", "k8smaster1", "k8smaster2"} {
		g := guestFacts{stages: map[string]float64{}}
		run(n, "cloud-init status --wait >/dev/null; systemctl is-system-running --wait >/dev/null")
		// cloud-init 22.4's own analyze fails on stages without modules
		// (IndexError in generate_records), so the log's events are read here.
		g.stages, g.cloudBlame = cloudInitEvents(run(n, "sudo cat /var/log/cloud-init.log"))
		g.systemdBlame = nonEmpty(run(n, "systemd-analyze blame"))
		g.criticalChain = strings.TrimSpace(run(n, "systemd-analyze critical-chain --no-pager"))
		g.systemdTotal = strings.TrimSpace(run(n, "systemd-analyze time"))
		g.active = map[string]time.Duration{}
		for m, unit := range activeUnits {
			if us, err := strconv.ParseInt(strings.TrimSpace(run(n, "systemctl show -p ActiveEnterTimestampMonotonic --value "+unit)), 10, 64); err == nil && us > 0 {
				g.active[m] = time.Duration(us) * time.Microsecond
			}
		}
		out[n] = g
	}
	return out
}

// ciEvent is a cloud-init.log reporting event: "2026-11-29 21:53:50,123 -
// handlers.py[DEBUG]: start: init-network/config-ssh: running config-ssh".
var ciEvent = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - [a-z_.]+\[DEBUG\]: (start|finish): ([a-z-]+)(/config-[a-z_]+)?: `)

// ciRun is the line each cloud-init stage starts its log with: "2026-11-29
// 21:53:50,123 - util.py[DEBUG]: Cloud-init v. 22.4.2 running 'init' at
// …". cloud-init 22.4 logs no start event for a stage, only its finish.
var ciRun = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - [a-z_.]+\[DEBUG\]: Cloud-init v\. \S+ running '([a-z:-]+)' `)

// ciStages names the stages as their finish events do.
var ciStages = map[string]string{"init-local": "init-local", "init": "init-network", "modules:config": "modules-config", "modules:final": "modules-final"}

// cloudInitEvents returns the stages' durations and the modules, slowest
// first ("12.3s init-network/config-runcmd"), of the first boot in a
// cloud-init.log.
func cloudInitEvents(log string) (map[string]float64, []string) {
	stages := map[string]float64{}
	type mod struct {
		name string
		d    time.Duration
	}
	var mods []mod
	started := map[string]time.Time{}
	for _, l := range strings.Split(log, "\n") {
		m := ciEvent.FindStringSubmatch(l)
		if r := ciRun.FindStringSubmatch(l); r != nil && ciStages[r[2]] != "" {
			m = []string{r[0], r[1], "start", ciStages[r[2]], ""}
		}
		if m == nil {
			continue
		}
		t, err := time.Parse("2006-01-02 15:04:05,000", m[1])
		if err != nil {
			continue
		}
		key := m[3] + m[4]
		if m[2] == "start" {
			if _, seen := started[key]; seen {
				break // a second boot
			}
			started[key] = t
			continue
		}
		begun, ok := started[key]
		if !ok {
			continue
		}
		d := t.Sub(begun)
		if m[4] == "" {
			stages[m[3]] = d.Seconds()
		} else {
			mods = append(mods, mod{key, d})
		}
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].d > mods[j].d })
	var out []string
	for _, m := range mods {
		out = append(out, fmt.Sprintf("%.2fs %s", m.d.Seconds(), strings.Replace(m.name, "/config-", " ", 1)))
	}
	return stages, out
}

// timelineTable renders the per-node timeline.
func timelineTable(run createRun, guest map[string]guestFacts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s", "node")
	for _, m := range milestones {
		fmt.Fprintf(&b, " %8s", m.name)
	}
	fmt.Fprintf(&b, " %8s |", "quorum")
	stages := []string{"init-local", "init-network", "modules-config", "modules-final"}
	for _, s := range stages {
		fmt.Fprintf(&b, " %14s", s)
	}
	b.WriteString("\n")
	quorum := run.quorum.Seconds()
	for _, n := range sortedKeys(run.seen) {
		fmt.Fprintf(&b, "%-11s", n)
		for _, m := range milestones {
			t, ok := run.seen[n][m.name]
			if k, kernel := run.seen[n]["kernel"]; !ok && kernel && guest[n].active[m.name] > 0 {
				t, ok = k.Add(guest[n].active[m.name]), true
			}
			if ok {
				fmt.Fprintf(&b, " %8.1f", t.Sub(run.started).Seconds())
			} else {
				fmt.Fprintf(&b, " %8s", "-")
			}
		}
		fmt.Fprintf(&b, " %8.1f |", quorum)
		for _, s := range stages {
			if d, ok := guest[n].stages[s]; ok {
				fmt.Fprintf(&b, " %13.1fs", d)
			} else {
				fmt.Fprintf(&b, " %14s", "-")
			}
		}
		b.WriteString("\n")
	}
	for _, n := range sortedKeys(guest) {
		fmt.Fprintf(&b, "%s: %s\n", n, guest[n].systemdTotal)
	}
	b.WriteString("the node's qemu CPU (user+system, seconds) when its console showed each milestone, and at quorum:\n")
	fmt.Fprintf(&b, "%-11s", "node")
	for _, m := range milestones {
		fmt.Fprintf(&b, " %8s", m.name)
	}
	fmt.Fprintf(&b, " %8s\n", "quorum")
	for _, n := range sortedKeys(run.nodeCPU) {
		fmt.Fprintf(&b, "%-11s", n)
		for _, m := range append(milestones, milestone{name: "quorum"}) {
			if cpu, ok := run.nodeCPU[n][m.name]; ok {
				fmt.Fprintf(&b, " %8.1f", cpu.Seconds())
			} else {
				fmt.Fprintf(&b, " %8s", "-")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// floorRun is one boot of the floor.
type floorRun struct {
	wall  time.Duration // domains started → multi-user.target on every console
	lines string        // per VM: kernel, /init, systemd, multi-user
	cpu   cpuUse        // over wall
}

// bootFloor boots the cached base image three at once with cloud-init
// masked on the kernel command line (no seed, no cloud-init work) and
// returns how long until every console shows systemd reaching
// multi-user.target, with the per-VM times and the CPU the guests used.
// Everything is removed after.
func bootFloor(b *testing.B) floorRun {
	ctx := context.Background()
	s := spec.Defaults()
	s.Name = "floor"
	s.Subnet = netip.MustParsePrefix("192.168.196.0/24")
	s.CPUs, s.MemoryMiB = 1, 768
	plan, err := s.Plan()
	if err != nil {
		b.Fatal(err)
	}
	img, err := images.Resolve(cache.New(os.Getenv("LAB_CACHE_DIR")), images.BuiltName(images.DefaultSuite))
	if err != nil {
		b.Fatal(err)
	}
	prov, err := virt.Dial(ctx, "qemu:///system")
	if err != nil {
		b.Fatalf("THE BENCHMARK NEEDS libvirtd: %v", err)
	}
	defer prov.Close()
	dir := b.TempDir()
	ssd := plan.Pool(spec.PoolSSD)
	cleanup := func() {
		for _, n := range plan.Nodes {
			prov.DeleteDomain(ctx, n.Domain, s.Name)
			prov.DeleteVolume(ctx, ssd.Name, n.OS.Name, s.Name)
		}
		prov.DeletePool(ctx, ssd.Name, s.Name)
		os.Remove(ssd.Path)
		prov.DeleteNetwork(ctx, plan.Network.Name, s.Name)
	}
	cleanup() // what an interrupted run left
	defer cleanup()
	net := plan.Network
	if _, err := prov.EnsureNetwork(ctx, virt.NetworkSpec{Name: net.Name, Bridge: net.Bridge, Gateway: net.Gateway, Prefix: net.Subnet.Bits(), Mode: net.Mode, Lab: s.Name}); err != nil {
		b.Fatal(err)
	}
	if _, err := prov.EnsurePool(ctx, virt.PoolSpec{Name: ssd.Name, Path: ssd.Path, Lab: s.Name}); err != nil {
		b.Fatal(err)
	}
	// The lab's own command line, plus cloud-init's units masked.
	cmdline := "root=/dev/vda rw console=ttyS0,115200n8 net.ifnames=0 biosdevname=0"
	for _, u := range []string{"cloud-init-local", "cloud-init", "cloud-config", "cloud-final"} {
		cmdline += " systemd.mask=" + u + ".service"
	}
	files := map[string]string{}
	for _, n := range plan.Nodes {
		if _, err := prov.CreateVolume(ctx, ssd.Name, virt.VolumeSpec{Name: n.OS.Name, Lab: s.Name, Format: virt.FormatQcow2, BackingPath: img.Disk}); err != nil {
			b.Fatal(err)
		}
		files[n.Name] = filepath.Join(dir, n.Name+".log")
		d := virt.DomainSpec{Name: n.Domain, Lab: s.Name, Node: n.Name, VCPUs: 1, MemoryMiB: 768, Accel: virt.AccelTCG,
			Boot:   virt.Boot{Kernel: img.Kernel, Initrd: img.Initrd, Cmdline: cmdline},
			OSDisk: n.OS.Path, Network: net.Name, MAC: n.MAC, ConsoleLog: files[n.Name]}
		if err := prov.DefineDomain(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
	floorMarks := []milestone{
		{"kernel", regexp.MustCompile(`Linux version `)},
		{"/init", regexp.MustCompile(`Run /init as init process`)},
		{"systemd", regexp.MustCompile(`Welcome to .*Debian`)},
		{"multi-user", regexp.MustCompile(`Reached target (multi-user\.target|Multi-User System)`)},
	}
	nodes := map[string]spec.Node{}
	for _, n := range plan.Nodes {
		nodes[n.Name] = n
	}
	watch := watchConsoles(files, floorMarks, func(n string) string { return nodes[n].Domain })
	start, hostStart := time.Now(), readHostTicks()
	for _, n := range plan.Nodes {
		if err := prov.StartDomain(ctx, n.Domain); err != nil {
			watch.Stop()
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		watch.mu.Lock()
		all := true
		for n := range files {
			if _, ok := watch.seen[n]["multi-user"]; !ok {
				all = false
			}
		}
		watch.mu.Unlock()
		if all {
			break
		}
		if time.Now().After(deadline) {
			watch.Stop()
			b.Fatalf("floor: not every VM reached multi-user.target in 10 minutes (consoles in %s)", dir)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var domains []string
	for _, n := range plan.Nodes {
		domains = append(domains, n.Domain)
	}
	use := cpuUse{guest: qemuCPU(b, domains...), busy: readHostTicks().busySince(hostStart)}
	seen := watch.Stop()
	var floor time.Duration
	var lines strings.Builder
	for _, n := range sortedKeys(seen) {
		fmt.Fprintf(&lines, "%-11s", n)
		for _, m := range floorMarks {
			d := seen[n][m.name].Sub(start)
			if seen[n][m.name].IsZero() {
				fmt.Fprintf(&lines, " %s -", m.name)
				continue
			}
			fmt.Fprintf(&lines, " %s %.1f", m.name, d.Seconds())
			if cpu, ok := watch.cpu[n][m.name]; ok && m.name == "multi-user" {
				fmt.Fprintf(&lines, " (CPU %.1f)", cpu.Seconds())
			}
			if m.name == "multi-user" && d > floor {
				floor = d
			}
		}
		lines.WriteString("\n")
	}
	return floorRun{wall: floor, lines: lines.String(), cpu: use}
}

// cpuUse is the CPU a boot cost over a window.
type cpuUse struct {
	guest time.Duration // the qemu processes' user+system time, from their start
	busy  float64       // the fraction of the host's CPU time that was not idle
}

// qemuCPU is the user+system time of the domains' qemu processes.
func qemuCPU(b *testing.B, domains ...string) time.Duration {
	var total time.Duration
	for _, domain := range domains {
		cpu, err := domainCPU(domain)
		if err != nil {
			b.Fatal(err)
		}
		total += cpu
	}
	return total
}

// domainCPU is the user+system time of a domain's qemu process, from
// libvirt's pid file and /proc/PID/stat.
func domainCPU(domain string) (time.Duration, error) {
	pid, err := os.ReadFile(filepath.Join("/run/libvirt/qemu", domain+".pid"))
	if err != nil {
		return 0, fmt.Errorf("the qemu process of %s: %w", domain, err)
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strings.TrimSpace(string(pid)), "stat"))
	if err != nil {
		return 0, fmt.Errorf("the qemu process of %s: %w", domain, err)
	}
	cpu, err := processCPU(stat)
	if err != nil {
		return 0, fmt.Errorf("the qemu process of %s: %w", domain, err)
	}
	return cpu, nil
}

// processCPU is utime+stime of a /proc/PID/stat line, in USER_HZ (100 on
// Linux). The command (field 2) is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted from its last ")".
func processCPU(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc/PID/stat without a command: %q", stat)
	}
	f := strings.Fields(string(stat[end+1:])) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/PID/stat has %d fields after the command, want 13 or more", len(f))
	}
	var cpu time.Duration
	for _, field := range f[14-3 : 15-3+1] { // utime, stime
		ticks, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/PID/stat: %w", err)
		}
		cpu += time.Duration(ticks) * 10 * time.Millisecond
	}
	return cpu, nil
}

// hostTicks is /proc/stat's first line: the host's CPU time, all (user
// to steal; guest time is counted in user already) and idle (idle and
// iowait).
type hostTicks struct{ total, idle uint64 }

func readHostTicks() hostTicks {
	var t hostTicks
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return t
	}
	line, _, _ := strings.Cut(string(data), "\n")
	for i, f := range strings.Fields(line)[1:9] {
		v, _ := strconv.ParseUint(f, 10, 64)
		t.total += v
		if i == 3 || i == 4 { // idle, iowait
			t.idle += v
		}
	}
	return t
}

// busySince is the fraction of the host's CPU time since start that was
// not idle.
func (t hostTicks) busySince(start hostTicks) float64 {
	if t.total <= start.total {
		return 0
	}
	return 1 - float64(t.idle-start.idle)/float64(t.total-start.total)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func nonEmpty(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// top returns the first n lines after any header: both blames list the
// slowest first.
func top(lines []string, n int) string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "-- Boot Record") {
			if len(out) > 0 {
				break // the first boot only
			}
			continue
		}
		out = append(out, "  "+strings.TrimSpace(l))
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, "\n")
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

// TestProcessCPU reads utime and stime from a /proc/PID/stat line whose
// command holds a space and a parenthesis.
func TestProcessCPU(t *testing.T) {
	stat := []byte("4242 (qemu (x86) 64) S 1 4242 4242 0 -1 4194624 120 0 0 0 1234 567 0 0 20 0 5 0 100 0 0\n")
	got, err := processCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 18010 * time.Millisecond; got != want {
		t.Errorf("processCPU = %s, want %s (1234 + 567 ticks)", got, want)
	}
	if _, err := processCPU([]byte("4242 (qemu) S 1")); err == nil {
		t.Error("a short line was read without an error")
	}
	start := hostTicks{total: 1000, idle: 400}
	if got := (hostTicks{total: 1200, idle: 450}).busySince(start); got != 0.75 {
		t.Errorf("busySince = %v, want 0.75 (150 of 200 ticks busy)", got)
	}
}

// TestCloudInitEvents reads stage and module times from lines of a real
// cloud-init 22.4 log, where a stage logs its start only as its "running"
// line.
func TestCloudInitEvents(t *testing.T) {
	log := `2026-11-30 06:53:35,493 - util.py[DEBUG]: Cloud-init v. 22.4.2 running 'init' at Mon, 30 Nov 2026 06:53:35 +0000. Up 26.09 seconds.
2026-11-30 06:53:37,761 - handlers.py[DEBUG]: start: init-network/config-mounts: running config-mounts with frequency once-per-instance
2026-11-30 06:53:40,682 - handlers.py[DEBUG]: finish: init-network/config-mounts: SUCCESS: config-mounts ran successfully
2026-11-30 06:53:48,809 - handlers.py[DEBUG]: finish: init-network: SUCCESS: searching for network datasources
2026-11-30 06:54:08,134 - util.py[DEBUG]: Cloud-init v. 22.4.2 running 'modules:final' at Mon, 30 Nov 2026 06:54:07 +0000. Up 57.81 seconds.
2026-11-30 06:54:08,260 - handlers.py[DEBUG]: finish: modules-final: SUCCESS: running modules for final
2026-11-30 06:58:00,000 - util.py[DEBUG]: Cloud-init v. 22.4.2 running 'init' at Mon, 30 Nov 2026 06:58:00 +0000. Up 5.00 seconds.
2026-11-30 06:58:09,000 - handlers.py[DEBUG]: finish: init-network: SUCCESS: searching for network datasources
`
	stages, mods := cloudInitEvents(log)
	want := map[string]float64{"init-network": 13.316, "modules-final": 0.126}
	if len(stages) != len(want) {
		t.Errorf("stages = %v, want %v", stages, want)
	}
	for k, v := range want {
		if d := stages[k] - v; d > 0.0005 || d < -0.0005 {
			t.Errorf("stage %s = %.3fs, want %.3fs", k, stages[k], v)
		}
	}
	if len(mods) != 1 || mods[0] != "2.92s init-network mounts" {
		t.Errorf("modules = %q", mods)
	}
}
