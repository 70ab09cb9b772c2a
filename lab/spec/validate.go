package spec

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits checked by Validate.
const (
	// MaxNameLen keeps the bridge "lab-<name>" within Linux's 15-byte
	// interface names (IFNAMSIZ 16 with the terminating NUL).
	MaxNameLen = 15 - len("lab-")
	// MinMemoryMiB is about what a Debian cloud guest with cloud-init and
	// etcd needs to boot without the OOM killer.
	MinMemoryMiB = 256
	// FirstHost is the host number of k8smaster0 in the subnet (.200 in the
	// story); node i gets FirstHost+i.
	FirstHost = 200
	// MaxElectionTimeout is etcd's upper bound (embed.maxElectionMs): the
	// one definition, which lab/etcd's unit check and the scenarios' flags
	// use too.
	MaxElectionTimeout = 50000 * time.Millisecond
	// MinElectionHeartbeatRatio is etcd's rule: election ≥ 5 × heartbeat.
	MinElectionHeartbeatRatio = 5
	// MaxHeartbeatInterval follows from etcd's two rules: a longer
	// heartbeat leaves no election timeout etcd accepts.
	MaxHeartbeatInterval = MaxElectionTimeout / MinElectionHeartbeatRatio
	// MaxNodes is the largest cluster lab builds: etcd recommends at most
	// seven members, and a laptop runs few VMs; nine leaves room to compare.
	MaxNodes = 9
	// MaxCPUs is QEMU's vCPU limit of the pc machine type the nodes use.
	MaxCPUs = 255
)

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	imageRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// privateRanges are the RFC 1918 ranges a lab subnet must lie in: an
// isolated network on a public range would shadow real hosts on this machine.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// FieldError is one problem with one field of a Spec, named by its flag.
type FieldError struct {
	// Flag is the command-line flag of the field, e.g. "--nodes".
	Flag string
	// Value is the rejected value as the user would type it.
	Value string
	// Problem says what is wrong; Fix says what to do instead.
	Problem string
	Fix     string
}

// Error reads "--nodes 2: etcd needs an odd member count ...; use 1, 3 or 5".
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %s: %s; %s", e.Flag, e.Value, e.Problem, e.Fix)
}

// Validate reports every problem of s at once, joined with errors.Join; each
// is a *FieldError naming the flag and the fix. A nil result means Plan will
// succeed.
func (s Spec) Validate() error {
	var errs []error
	add := func(flag string, value any, problem, fix string, args ...any) {
		errs = append(errs, &FieldError{
			Flag: flag, Value: show(value),
			Problem: problem, Fix: fmt.Sprintf(fix, args...),
		})
	}
	s.validateName(add)
	s.validateSubnet(add)
	s.validateSize(add)
	s.validatePools(add)
	s.validateModes(add)
	s.validateTiming(add)
	s.validateArtifacts(add)
	return errors.Join(errs...)
}

type addFunc func(flag string, value any, problem, fix string, args ...any)

func (s Spec) validateName(add addFunc) {
	var fe *FieldError
	if errors.As(CheckName(s.Name), &fe) {
		add(fe.Flag, s.Name, fe.Problem, "%s", fe.Fix)
	}
}

// CheckName is the one rule for a lab name, wherever it becomes a path
// (the state directory) or an object name (network, bridge, pools,
// volumes): a DNS label of lower-case letters, digits and inner hyphens,
// starting with a letter, at most MaxNameLen characters. Such a name has no
// '/', '.' or '..', so it can never lead out of a directory. The error is a
// *FieldError naming --lab and the fix.
func CheckName(name string) error {
	fe := func(problem, fix string, args ...any) error {
		return &FieldError{Flag: "--lab", Value: show(name), Problem: problem, Fix: fmt.Sprintf(fix, args...)}
	}
	switch {
	case name == "":
		return fe("the lab name is empty", "use a short name such as %q", DefaultName)
	case len(name) > MaxNameLen:
		return fe(fmt.Sprintf("longer than %d characters, so the bridge %q exceeds Linux's 15-character interface names", MaxNameLen, ObjectPrefix(name)),
			"use at most %d characters", MaxNameLen)
	case !nameRE.MatchString(name) || strings.HasSuffix(name, "-"):
		return fe("not usable as a directory, libvirt and bridge names",
			"use 1 to %d lower-case letters, digits and inner hyphens, starting with a letter", MaxNameLen)
	}
	return nil
}

func (s Spec) validateSubnet(add addFunc) {
	p := s.Subnet
	switch {
	case !p.IsValid():
		add("--subnet", "", "no subnet given", "use an IPv4 prefix such as %s", DefaultSubnet)
		return
	case !p.Addr().Is4():
		add("--subnet", p, "only IPv4 subnets are supported", "use an IPv4 prefix such as %s", DefaultSubnet)
		return
	case p.Masked() != p:
		add("--subnet", p, "host bits are set", "use the network address, %s", p.Masked())
		return
	}
	if !isPrivate(p) {
		add("--subnet", p, "not inside a private range, so the lab would shadow real hosts",
			"use a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
		return
	}
	if s.Nodes >= 1 && s.Nodes <= MaxNodes && !fits(p, s.Nodes) {
		add("--subnet", p, fmt.Sprintf("subnet too small for %d nodes: they use host numbers .%d to .%d",
			s.Nodes, FirstHost, FirstHost+s.Nodes-1),
			"use a /%d or larger, such as %s", needBits(s.Nodes), netip.PrefixFrom(p.Addr(), needBits(s.Nodes)).Masked())
	}
}

// fits reports whether host numbers FirstHost..FirstHost+n-1 lie inside p
// without touching its broadcast address.
func fits(p netip.Prefix, n int) bool {
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits >= 31 {
		return true
	}
	size := 1 << hostBits
	return FirstHost+n-1 <= size-2
}

// needBits is the longest prefix whose subnet holds n nodes.
func needBits(n int) int {
	b := 30
	for b > 0 && !fits(netip.PrefixFrom(netip.IPv4Unspecified(), b), n) {
		b--
	}
	return b
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func (s Spec) validateSize(add addFunc) {
	switch {
	case s.Nodes < 1:
		add("--nodes", s.Nodes, "a cluster needs at least one member", "use 1, 3 or 5")
	case s.Nodes > MaxNodes:
		add("--nodes", s.Nodes, fmt.Sprintf("more than the %d members lab builds (etcd recommends at most 7)", MaxNodes),
			"use 1, 3, 5, 7 or %d", MaxNodes)
	case s.Nodes%2 == 0:
		add("--nodes", s.Nodes, "etcd needs an odd member count: an even one tolerates no more failures than one fewer",
			"use %d or %d", s.Nodes-1, s.Nodes+1)
	}
	switch {
	case s.CPUs < 1:
		add("--cpus", s.CPUs, "a node needs at least one vCPU", "use %d", DefaultCPUs)
	case s.CPUs > MaxCPUs:
		add("--cpus", s.CPUs, fmt.Sprintf("more than the %d vCPUs QEMU gives a machine", MaxCPUs), "use %d", DefaultCPUs)
	}
	if s.MemoryMiB < MinMemoryMiB {
		add("--memory", s.MemoryMiB, fmt.Sprintf("below the %d MiB a node needs to boot and run etcd", MinMemoryMiB),
			"use at least %d (MiB)", MinMemoryMiB)
	}
}

func (s Spec) validatePools(add addFunc) {
	if !isPool(s.DataPool) {
		add("--data-pool", s.DataPool, "unknown pool", "use %q or %q", PoolSSD, PoolHDD)
	}
	nodes := make([]string, 0, len(s.NodePools))
	for node := range s.NodePools {
		nodes = append(nodes, node)
	}
	slices.Sort(nodes)
	for _, node := range nodes {
		pool := s.NodePools[node]
		if !s.hasNode(node) {
			add("--data-pool", node+"="+pool, fmt.Sprintf("no node %q in a %d-node lab", node, s.Nodes),
				"name a node from %s to %s", NodeName(0), NodeName(max(s.Nodes-1, 0)))
		}
		if !isPool(pool) {
			add("--data-pool", node+"="+pool, "unknown pool", "use %q or %q", PoolSSD, PoolHDD)
		}
	}
	ssdOK := validatePath(add, "--ssd-path", s.SSDPath, PoolPath(s.Name, PoolSSD))
	hddOK := validatePath(add, "--hdd-path", s.HDDPath, PoolPath(s.Name, PoolHDD))
	if ssdOK && hddOK && s.ssdPath() == s.hddPath() {
		add("--hdd-path", s.hddPath(), "the same directory as --ssd-path, so both pools would hold the same disks",
			"point --ssd-path and --hdd-path at different directories")
	}
}

func (s Spec) hasNode(node string) bool {
	for i := range s.Nodes {
		if NodeName(i) == node {
			return true
		}
	}
	return false
}

func isPool(p string) bool { return p == PoolSSD || p == PoolHDD }

// validatePath accepts "" (the default) or a clean absolute path other than /.
func validatePath(add addFunc, flag, path, example string) bool {
	switch {
	case path == "":
		return true
	case !filepath.IsAbs(path):
		add(flag, path, "not an absolute path", "give the full path, such as %s", example)
	case filepath.Clean(path) != path:
		add(flag, path, "not a clean path", "use %s", filepath.Clean(path))
	case path == "/":
		add(flag, path, "the root directory cannot be a pool", "use a directory of its own")
	default:
		return true
	}
	return false
}

func (s Spec) validateModes(add addFunc) {
	if s.NetworkMode != NetworkIsolated && s.NetworkMode != NetworkNAT {
		add("--network-mode", s.NetworkMode, "unknown network mode", "use %q (no traffic leaves the host) or %q", NetworkIsolated, NetworkNAT)
	}
	if s.Accel != AccelAuto && s.Accel != AccelKVM && s.Accel != AccelTCG {
		add("--accel", s.Accel, "unknown accelerator", "use %q, %q or %q", AccelAuto, AccelKVM, AccelTCG)
	}
}

// validateTiming applies etcd's own rules (embed.Config.Validate) so a bad
// pair is refused here rather than by etcd inside every guest.
func (s Spec) validateTiming(add addFunc) {
	hb, el := s.HeartbeatInterval, s.ElectionTimeout
	hbOK := wholeMs(add, "--heartbeat-interval", hb, DefaultHeartbeatInterval)
	elOK := wholeMs(add, "--election-timeout", el, DefaultElectionTimeout)
	if hbOK && hb > MaxHeartbeatInterval {
		add("--heartbeat-interval", ms(hb), fmt.Sprintf("above %d ms, no election timeout etcd accepts is %d × as long (etcd's limit is %d ms)",
			MaxHeartbeatInterval.Milliseconds(), MinElectionHeartbeatRatio, MaxElectionTimeout.Milliseconds()),
			"use at most %d", MaxHeartbeatInterval.Milliseconds())
		hbOK = false
	}
	if elOK && el > MaxElectionTimeout {
		add("--election-timeout", ms(el), fmt.Sprintf("etcd refuses election timeouts above %d ms", MaxElectionTimeout.Milliseconds()),
			"use at most %d", MaxElectionTimeout.Milliseconds())
		elOK = false
	}
	if hbOK && elOK && el < MinElectionHeartbeatRatio*hb {
		add("--election-timeout", ms(el), fmt.Sprintf("etcd requires at least %d × --heartbeat-interval (%d ms)", MinElectionHeartbeatRatio, hb.Milliseconds()),
			"use at least %d, or lower --heartbeat-interval to at most %d",
			(MinElectionHeartbeatRatio * hb).Milliseconds(), (el / MinElectionHeartbeatRatio).Milliseconds())
	}
}

// wholeMs checks that d is positive and a whole number of milliseconds,
// since etcd's flags take integer milliseconds.
func wholeMs(add addFunc, flag string, d, def time.Duration) bool {
	switch {
	case d <= 0:
		add(flag, ms(d), "must be positive (milliseconds)", "use %d, etcd's default", def.Milliseconds())
	case d%time.Millisecond != 0:
		add(flag, d, "etcd takes whole milliseconds", "use %d", d.Round(time.Millisecond).Milliseconds())
	default:
		return true
	}
	return false
}

func (s Spec) validateArtifacts(add addFunc) {
	if s.EtcdBinary != "" && !filepath.IsAbs(s.EtcdBinary) {
		add("--etcd-binary", s.EtcdBinary, "not an absolute path", "give the full path, such as $PWD/%s", s.EtcdBinary)
	}
	if strings.ContainsRune(s.Image, '/') {
		if !filepath.IsAbs(s.Image) {
			add("--image", s.Image, "a relative path", "give the full path of the image file, or a cached image name")
		}
	} else if s.Image != "" && !imageRE.MatchString(s.Image) {
		add("--image", s.Image, "not a valid image name", "use a name from `lab image list` or an absolute path")
	}
	if !versionRE.MatchString(s.EtcdVersion) {
		add("--etcd-version", s.EtcdVersion, "not an etcd release number", "use MAJOR.MINOR.PATCH, such as %s", DefaultEtcdVersion)
	}
}

// ms renders a duration the way the flags take it: integer milliseconds.
type ms time.Duration

func (m ms) String() string { return fmt.Sprint(time.Duration(m).Milliseconds()) }

// show renders a rejected value: strings quoted so empty and odd values are
// visible, everything else with its String method.
func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}
