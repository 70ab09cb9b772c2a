package etcd

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/internal/golden"
)

// defaultLab is k8smaster0 of the default three-node lab.
func defaultLab() UnitOptions {
	return UnitOptions{
		Name:           "k8smaster0",
		IP:             netip.MustParseAddr("192.168.199.200"),
		InitialCluster: "k8smaster0=https://192.168.199.200:2380,k8smaster1=https://192.168.199.201:2380,k8smaster2=https://192.168.199.202:2380",
		ClusterToken:   "etcd-cluster-0",
	}
}

func TestUnitGolden(t *testing.T) {
	got, err := Unit(defaultLab())
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "unit-k8smaster0.golden"), got)
}

// execStart is the unit's ExecStart words, failing the test without one.
func execStart(t *testing.T, unit []byte) []string {
	t.Helper()
	argv, err := ExecStart(unit)
	if err != nil {
		t.Fatal(err)
	}
	return argv
}

func TestUnitFlags(t *testing.T) {
	o := defaultLab()
	o.HeartbeatInterval = 500 * time.Millisecond
	o.ElectionTimeout = 5 * time.Second
	o.ExtraFlags = []string{"--pre-vote=false", "--log-level=debug"}
	unit, err := Unit(o)
	if err != nil {
		t.Fatal(err)
	}
	argv := execStart(t, unit)
	if argv[0] != "/usr/local/bin/etcd" {
		t.Fatalf("ExecStart runs %q", argv[0])
	}

	// Each flag exactly once, in the story's order, with these values (""
	// for a boolean).
	want := []struct{ flag, value string }{
		{"name", "k8smaster0"},
		{"cert-file", "/etc/etcd/kubernetes.pem"},
		{"key-file", "/etc/etcd/kubernetes-key.pem"},
		{"peer-cert-file", "/etc/etcd/kubernetes.pem"},
		{"peer-key-file", "/etc/etcd/kubernetes-key.pem"},
		{"trusted-ca-file", "/etc/etcd/ca.pem"},
		{"peer-trusted-ca-file", "/etc/etcd/ca.pem"},
		{"peer-client-cert-auth", ""},
		{"client-cert-auth", ""},
		{"initial-advertise-peer-urls", "https://192.168.199.200:2380"},
		{"listen-peer-urls", "https://192.168.199.200:2380"},
		{"listen-client-urls", "https://192.168.199.200:2379,https://127.0.0.1:2379"},
		{"advertise-client-urls", "https://192.168.199.200:2379"},
		{"initial-cluster-token", "etcd-cluster-0"},
		{"initial-cluster", o.InitialCluster},
		{"initial-cluster-state", "new"},
		{"data-dir", "/var/lib/etcd"},
		{"heartbeat-interval", "500"},
		{"election-timeout", "5000"},
		{"pre-vote", "false"},
		{"log-level", "debug"},
	}
	var got []struct{ flag, value string }
	booleans := map[string]bool{"peer-client-cert-auth": true, "client-cert-auth": true}
	for i := 1; i < len(argv); i++ {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(argv[i], "--"), "=")
		if !strings.HasPrefix(argv[i], "--") {
			t.Fatalf("word %q is not a flag", argv[i])
		}
		if !hasValue && !booleans[name] {
			i++
			value = argv[i]
		}
		got = append(got, struct{ flag, value string }{name, value})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ExecStart flags\n got %v\nwant %v", got, want)
	}
	// etcdtest's TestUnitFlagsAreEtcds checks that etcd's own flag set
	// takes them.
}

func TestUnitSections(t *testing.T) {
	o := defaultLab()
	o.DataDir = "/srv/etcd"
	unit, err := Unit(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"RequiresMountsFor=/srv/etcd\n", "After=network-online.target\n", "Restart=on-failure\n",
		"RestartSec=5\n", "WantedBy=multi-user.target\n", "  --data-dir=/srv/etcd \\\n",
	} {
		if !bytes.Contains(unit, []byte(line)) {
			t.Errorf("unit lacks %q", line)
		}
	}
}

func TestUnitOptionsRejects(t *testing.T) {
	for name, mutate := range map[string]func(*UnitOptions){
		"sub-millisecond heartbeat": func(o *UnitOptions) { o.HeartbeatInterval = 1500 * time.Microsecond },
		"negative heartbeat":        func(o *UnitOptions) { o.HeartbeatInterval = -time.Millisecond },
		"sub-millisecond election":  func(o *UnitOptions) { o.ElectionTimeout = 1000*time.Millisecond + 1 },
		"no name":                   func(o *UnitOptions) { o.Name = "" },
		"name with space":           func(o *UnitOptions) { o.Name = "k8s master0" },
		"no address":                func(o *UnitOptions) { o.IP = netip.Addr{} },
		"no token":                  func(o *UnitOptions) { o.ClusterToken = "" },
		"token with dollar":         func(o *UnitOptions) { o.ClusterToken = "etcd-$HOME" },
		"member missing":            func(o *UnitOptions) { o.InitialCluster = "k8smaster1=https://192.168.199.201:2380" },
		"member at another address": func(o *UnitOptions) { o.IP = netip.MustParseAddr("192.168.199.210") },
		"http peer":                 func(o *UnitOptions) { o.InitialCluster = "k8smaster0=http://192.168.199.200:2380" },
		"entry without URL":         func(o *UnitOptions) { o.InitialCluster += ",k8smaster3" },
		"relative data dir":         func(o *UnitOptions) { o.DataDir = "var/lib/etcd" },
		"cert dir with space":       func(o *UnitOptions) { o.CertDir = "/etc/my etcd" },
		"binary with percent":       func(o *UnitOptions) { o.Binary = "/usr/local/bin/etcd%i" },
		"extra flag sets timing":    func(o *UnitOptions) { o.ExtraFlags = []string{"--heartbeat-interval=200"} },
		"extra flag sets name":      func(o *UnitOptions) { o.ExtraFlags = []string{"--name=x"} },
		"extra flag twice":          func(o *UnitOptions) { o.ExtraFlags = []string{"--pre-vote", "--pre-vote=false"} },
		"extra flag with space":     func(o *UnitOptions) { o.ExtraFlags = []string{"--log-level=debug info"} },
		"extra word":                func(o *UnitOptions) { o.ExtraFlags = []string{"debug"} },
		"extra flag with newline":   func(o *UnitOptions) { o.ExtraFlags = []string{"--pre-vote\nExecStartPre=/bin/rm"} },
	} {
		t.Run(name, func(t *testing.T) {
			o := defaultLab()
			mutate(&o)
			if err := o.Validate(); err == nil {
				t.Error("Validate accepted it")
			}
			if _, err := Unit(o); err == nil {
				t.Error("Unit rendered it")
			}
		})
	}
}

// TestUnitIsTheStorys compares the unit with the story's ExecStart to
// RestartSec lines, copied from DESIGN.md into testdata/unit-story.txt: the
// same text once the explicit timing line is taken out.
func TestUnitIsTheStorys(t *testing.T) {
	story, err := os.ReadFile(filepath.Join("testdata", "unit-story.txt"))
	if err != nil {
		t.Fatal(err)
	}
	unit, err := Unit(defaultLab())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Replace(string(unit),
		"  --data-dir=/var/lib/etcd \\\n  --heartbeat-interval=100 --election-timeout=1000\n",
		"  --data-dir=/var/lib/etcd\n", 1)
	if !strings.Contains(got, string(story)) {
		t.Errorf("the unit does not contain the story's lines\n--- unit ---\n%s--- story ---\n%s", unit, story)
	}
}
