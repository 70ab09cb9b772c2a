package etcd_test

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"go.etcd.io/etcd/pkg/v3/flags"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/kthw-lab/lab/lab/etcd"
)

// defaultLab is k8smaster0 of the default three-node lab.
func defaultLab() etcd.UnitOptions {
	return etcd.UnitOptions{
		Name:           "k8smaster0",
		IP:             netip.MustParseAddr("192.168.199.200"),
		InitialCluster: "k8smaster0=https://192.168.199.200:2380,k8smaster1=https://192.168.199.201:2380,k8smaster2=https://192.168.199.202:2380",
		ClusterToken:   "etcd-cluster-0",
	}
}

// execStart is the unit's ExecStart words, failing the test without one.
func execStart(t *testing.T, unit []byte) []string {
	t.Helper()
	argv, err := etcd.ExecStart(unit)
	if err != nil {
		t.Fatal(err)
	}
	return argv
}

// TestUnitFlagsAreEtcds checks that etcd's own flag set (embed's flags plus
// the one etcdmain adds that the unit uses) takes every flag of the unit's
// ExecStart line, with the values lab/etcd's TestUnitFlags pins.
func TestUnitFlagsAreEtcds(t *testing.T) {
	o := defaultLab()
	o.HeartbeatInterval = 500 * time.Millisecond
	o.ElectionTimeout = 5 * time.Second
	o.ExtraFlags = []string{"--pre-vote=false", "--log-level=debug"}
	unit, err := etcd.Unit(o)
	if err != nil {
		t.Fatal(err)
	}
	argv := execStart(t, unit)
	if argv[0] != "/usr/local/bin/etcd" {
		t.Fatalf("ExecStart runs %q", argv[0])
	}
	cfg := embed.NewConfig()
	fs := flag.NewFlagSet("etcd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg.AddFlags(fs)
	clusterState := flags.NewSelectiveStringValue(embed.ClusterStateFlagNew, embed.ClusterStateFlagExisting)
	fs.Var(clusterState, "initial-cluster-state", "")
	if err := fs.Parse(argv[1:]); err != nil {
		t.Fatalf("etcd's flags refuse the unit's command line: %v", err)
	}
	if fs.NArg() != 0 {
		t.Errorf("etcd's flags leave arguments over: %q", fs.Args())
	}
	if cfg.Name != "k8smaster0" || cfg.TickMs != 500 || cfg.ElectionMs != 5000 || cfg.Dir != "/var/lib/etcd" ||
		!cfg.ClientTLSInfo.ClientCertAuth || !cfg.PeerTLSInfo.ClientCertAuth || cfg.PreVote ||
		clusterState.String() != embed.ClusterStateFlagNew || cfg.InitialCluster != o.InitialCluster ||
		cfg.InitialClusterToken != "etcd-cluster-0" {
		t.Errorf("etcd parsed name %q, heartbeat %d, election %d, data dir %q, client cert auth %v/%v, pre-vote %v, cluster state %s",
			cfg.Name, cfg.TickMs, cfg.ElectionMs, cfg.Dir, cfg.ClientTLSInfo.ClientCertAuth, cfg.PeerTLSInfo.ClientCertAuth, cfg.PreVote, clusterState)
	}
	for _, tls := range []struct{ got, want string }{
		{cfg.ClientTLSInfo.CertFile, "/etc/etcd/kubernetes.pem"},
		{cfg.ClientTLSInfo.KeyFile, "/etc/etcd/kubernetes-key.pem"},
		{cfg.ClientTLSInfo.TrustedCAFile, "/etc/etcd/ca.pem"},
		{cfg.PeerTLSInfo.CertFile, "/etc/etcd/kubernetes.pem"},
		{cfg.PeerTLSInfo.KeyFile, "/etc/etcd/kubernetes-key.pem"},
		{cfg.PeerTLSInfo.TrustedCAFile, "/etc/etcd/ca.pem"},
	} {
		if tls.got != tls.want {
			t.Errorf("etcd parsed a TLS file as %q, want %q", tls.got, tls.want)
		}
	}
}

// TestTimingAgreesWithEtcd checks Validate's verdict on the raft timing
// against etcd's own configuration check.
func TestTimingAgreesWithEtcd(t *testing.T) {
	for _, tc := range []struct{ heartbeat, election int }{
		{100, 1000}, {100, 500}, {100, 499}, {500, 5000}, {1000, 4999},
		{1000, 50000}, {1000, 50001}, {10000, 50000}, {10001, 50000}, {1, 5}, {1, 4},
	} {
		t.Run(fmt.Sprintf("%d-%d", tc.heartbeat, tc.election), func(t *testing.T) {
			o := defaultLab()
			o.HeartbeatInterval = time.Duration(tc.heartbeat) * time.Millisecond
			o.ElectionTimeout = time.Duration(tc.election) * time.Millisecond
			ours := o.Validate()

			cfg := embed.NewConfig()
			cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
			cfg.TickMs, cfg.ElectionMs = uint(tc.heartbeat), uint(tc.election)
			theirs := cfg.Validate()
			if (ours == nil) != (theirs == nil) {
				t.Errorf("Validate says %v, etcd says %v", ours, theirs)
			}
		})
	}
}
