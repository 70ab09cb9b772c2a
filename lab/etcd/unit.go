package etcd

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
)

// Where Kubernetes the hard way puts etcd's files on a node (lab/guest
// owns them); a zero UnitOptions field takes these.
const (
	DefaultDataDir           = guest.DataDir
	DefaultCertDir           = guest.CertDir
	DefaultBinary            = guest.EtcdBinary
	DefaultHeartbeatInterval = 100 * time.Millisecond
	DefaultElectionTimeout   = 1000 * time.Millisecond
)

// The certificate files under the unit's CertDir: the CA and the
// "kubernetes" key pair that etcd serves, peers and authenticates with.
const (
	CAFileName   = guest.CAFile
	CertFileName = guest.CertFile
	KeyFileName  = guest.KeyFile
)

const (
	peerPort   = 2380
	clientPort = 2379
)

// UnitOptions are one member's values for the story's etcd.service.
type UnitOptions struct {
	// Name is the member name, also the node's hostname (k8smaster0).
	Name string
	// IP is the node's address, for the peer and client URLs.
	IP netip.Addr
	// InitialCluster is --initial-cluster, name=https://ip:2380 for every
	// member; it must list this member with its own peer URL.
	InitialCluster string
	// ClusterToken is --initial-cluster-token (etcd-cluster-0).
	ClusterToken string
	DataDir      string
	CertDir      string
	// HeartbeatInterval and ElectionTimeout are raft's timing, written in
	// whole milliseconds as etcd's flags take them.
	HeartbeatInterval time.Duration
	ElectionTimeout   time.Duration
	Binary            string
	// ExtraFlags are appended one per line, each --flag or --flag=value
	// (for example --pre-vote=false). Flags the unit already sets are
	// refused: give them through the fields.
	ExtraFlags []string
}

// plain is what a value may hold to go into ExecStart unquoted: systemd
// splits on white space, expands $ and %, and treats quotes and
// backslashes.
var plain = regexp.MustCompile(`^[A-Za-z0-9._:/,=+@-]+$`)

// extraFlag is one --flag or --flag=value.
var extraFlag = regexp.MustCompile(`^--([a-z0-9][a-z0-9-]*)(=[A-Za-z0-9._:/,=+@-]*)?$`)

// unitFlags are the flags Unit writes itself.
var unitFlags = []string{
	"name", "cert-file", "key-file", "peer-cert-file", "peer-key-file",
	"trusted-ca-file", "peer-trusted-ca-file", "peer-client-cert-auth",
	"client-cert-auth", "initial-advertise-peer-urls", "listen-peer-urls",
	"listen-client-urls", "advertise-client-urls", "initial-cluster-token",
	"initial-cluster", "initial-cluster-state", "data-dir",
	"heartbeat-interval", "election-timeout",
}

// withDefaults fills the zero fields.
func (o UnitOptions) withDefaults() UnitOptions {
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.CertDir == "" {
		o.CertDir = DefaultCertDir
	}
	if o.Binary == "" {
		o.Binary = DefaultBinary
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.ElectionTimeout == 0 {
		o.ElectionTimeout = DefaultElectionTimeout
	}
	return o
}

// Validate reports what etcd would refuse to start with, and what would not
// survive systemd's command-line parsing, after zero fields take their
// defaults.
func (o UnitOptions) Validate() error {
	o = o.withDefaults()
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !plain.MatchString(o.Name) || strings.ContainsAny(o.Name, "=,") {
		add("member name %q must be letters, digits, '.', '_' or '-'", o.Name)
	}
	if !o.IP.IsValid() {
		add("member %s has no IP address", o.Name)
	}
	if !plain.MatchString(o.ClusterToken) {
		add("initial cluster token %q is empty or has characters systemd would mangle", o.ClusterToken)
	}
	if err := checkInitialCluster(o.InitialCluster, o.Name, o.peerURL()); err != nil {
		errs = append(errs, err)
	}
	for _, p := range []struct{ what, path string }{
		{"data directory", o.DataDir}, {"certificate directory", o.CertDir}, {"etcd binary", o.Binary},
	} {
		if !plain.MatchString(p.path) || !path.IsAbs(p.path) || path.Clean(p.path) != p.path {
			add("%s %q is not a plain absolute path", p.what, p.path)
		}
	}
	errs = append(errs, checkTiming(o.HeartbeatInterval, o.ElectionTimeout))
	seen := make(map[string]bool)
	for _, f := range o.ExtraFlags {
		m := extraFlag.FindStringSubmatch(f)
		switch {
		case m == nil:
			add("extra flag %q is not --flag or --flag=value with plain characters", f)
		case slices.Contains(unitFlags, m[1]):
			add("extra flag %q sets what the unit already sets; use the option", f)
		case seen[m[1]]:
			add("extra flag --%s is given twice", m[1])
		}
		if m != nil {
			seen[m[1]] = true
		}
	}
	return errors.Join(errs...)
}

// checkTiming applies etcd's rules (embed.Config.Validate) to the raft
// timing, which its flags take in whole milliseconds.
func checkTiming(heartbeat, election time.Duration) error {
	switch {
	case heartbeat < time.Millisecond || heartbeat%time.Millisecond != 0:
		return fmt.Errorf("heartbeat interval %v must be a positive whole number of milliseconds", heartbeat)
	case election < time.Millisecond || election%time.Millisecond != 0:
		return fmt.Errorf("election timeout %v must be a positive whole number of milliseconds", election)
	case election < spec.MinElectionHeartbeatRatio*heartbeat:
		return fmt.Errorf("election timeout %v must be at least %d times the heartbeat interval %v", election, spec.MinElectionHeartbeatRatio, heartbeat)
	case election > spec.MaxElectionTimeout:
		return fmt.Errorf("election timeout %v is longer than etcd's maximum %v", election, spec.MaxElectionTimeout)
	}
	return nil
}

// checkInitialCluster requires name=URL pairs with https URLs, among them
// this member with its own peer URL: etcd refuses to start otherwise.
func checkInitialCluster(cluster, name, peerURL string) error {
	if !plain.MatchString(cluster) {
		return fmt.Errorf("initial cluster %q is empty or has characters systemd would mangle", cluster)
	}
	self := false
	for _, member := range strings.Split(cluster, ",") {
		n, u, ok := strings.Cut(member, "=")
		if !ok || n == "" {
			return fmt.Errorf("initial cluster entry %q is not name=URL", member)
		}
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme != "https" || parsed.Host == "" {
			return fmt.Errorf("initial cluster entry %q needs an https peer URL", member)
		}
		if n == name && u == peerURL {
			self = true
		}
	}
	if !self {
		return fmt.Errorf("initial cluster %q does not list %s=%s", cluster, name, peerURL)
	}
	return nil
}

func (o UnitOptions) url(port uint16) string {
	return "https://" + netip.AddrPortFrom(o.IP, port).String()
}

func (o UnitOptions) peerURL() string { return o.url(peerPort) }

// Unit renders the member's systemd unit: the story's etcd.service from
// Kubernetes the hard way, flag for flag and line for line, with the raft
// timing made explicit after it and ExtraFlags last.
func Unit(o UnitOptions) ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("rendering etcd unit for %s: %w", o.Name, err)
	}
	o = o.withDefaults()
	cert := path.Join(o.CertDir, CertFileName)
	key := path.Join(o.CertDir, KeyFileName)
	ca := path.Join(o.CertDir, CAFileName)
	loopback := "https://" + netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), clientPort).String()

	args := []string{
		"--name " + o.Name,
		"--cert-file=" + cert + " --key-file=" + key,
		"--peer-cert-file=" + cert + " --peer-key-file=" + key,
		"--trusted-ca-file=" + ca + " --peer-trusted-ca-file=" + ca,
		"--peer-client-cert-auth --client-cert-auth",
		"--initial-advertise-peer-urls " + o.peerURL(),
		"--listen-peer-urls " + o.peerURL(),
		"--listen-client-urls " + o.url(clientPort) + "," + loopback,
		"--advertise-client-urls " + o.url(clientPort),
		"--initial-cluster-token " + o.ClusterToken,
		"--initial-cluster " + o.InitialCluster,
		"--initial-cluster-state new",
		"--data-dir=" + o.DataDir,
		fmt.Sprintf("--heartbeat-interval=%d --election-timeout=%d",
			o.HeartbeatInterval.Milliseconds(), o.ElectionTimeout.Milliseconds()),
	}
	args = append(args, o.ExtraFlags...)

	var b bytes.Buffer
	b.WriteString("[Unit]\n")
	b.WriteString("Description=etcd\n")
	b.WriteString("Documentation=https://github.com/coreos\n")
	// The listeners bind the node's static address, so wait for it; and
	// never start on the root file system when the data disk is missing.
	b.WriteString("Wants=network-online.target\n")
	b.WriteString("After=network-online.target\n")
	fmt.Fprintf(&b, "RequiresMountsFor=%s\n", o.DataDir)
	b.WriteString("\n[Service]\n")
	// etcd signals readiness once it has joined a cluster with a leader.
	b.WriteString("Type=notify\n")
	fmt.Fprintf(&b, "ExecStart=%s \\\n", o.Binary)
	for i, a := range args {
		b.WriteString("  " + a)
		if i < len(args)-1 {
			b.WriteString(" \\")
		}
		b.WriteString("\n")
	}
	b.WriteString("Restart=on-failure\n")
	b.WriteString("RestartSec=5\n")
	b.WriteString("\n[Install]\n")
	b.WriteString("WantedBy=multi-user.target\n")
	return b.Bytes(), nil
}

// ExecStart returns the words of unit's ExecStart line, its
// backslash-newline continuations joined, split as systemd splits a line
// without quotes: the etcd command line the unit runs.
func ExecStart(unit []byte) ([]string, error) {
	var line strings.Builder
	in := false
	for _, l := range strings.Split(string(unit), "\n") {
		if strings.HasPrefix(l, "ExecStart=") {
			in = true
			l = strings.TrimPrefix(l, "ExecStart=")
		}
		if !in {
			continue
		}
		cont := strings.HasSuffix(l, "\\")
		line.WriteString(strings.TrimSuffix(l, "\\") + " ")
		if !cont {
			break
		}
	}
	if !in {
		return nil, errors.New("the unit has no ExecStart line")
	}
	return strings.Fields(line.String()), nil
}
