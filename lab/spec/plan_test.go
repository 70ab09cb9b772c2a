package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/internal/golden"
)

func TestPlanStory(t *testing.T) {
	p, err := Defaults().Plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Network != (Network{Name: "lab-kthw", Bridge: "lab-kthw", Subnet: DefaultSubnet,
		Gateway: netip.MustParseAddr("192.168.199.1"), Mode: "isolated"}) {
		t.Errorf("network = %+v", p.Network)
	}
	wantPools := []Pool{
		{Kind: "ssd", Name: "kthw-ssd", Path: "/var/lib/libvirt/images/lab-kthw-ssd"},
		{Kind: "hdd", Name: "kthw-hdd", Path: "/var/lib/libvirt/images/lab-kthw-hdd"},
	}
	if fmt.Sprint(p.Pools) != fmt.Sprint(wantPools) {
		t.Errorf("pools = %+v, want %+v", p.Pools, wantPools)
	}
	if p.Spec.SSDPath != wantPools[0].Path || p.Spec.HDDPath != wantPools[1].Path {
		t.Errorf("plan's spec paths = %q, %q; want them resolved", p.Spec.SSDPath, p.Spec.HDDPath)
	}
	n1, ok := p.Node("k8smaster1")
	if !ok {
		t.Fatal("no k8smaster1")
	}
	want := Node{
		Index: 1, Name: "k8smaster1", Domain: "kthw-k8smaster1",
		IP: netip.MustParseAddr("192.168.199.201"), MAC: n1.MAC, DataPool: "ssd",
		OS:        Volume{Pool: "kthw-ssd", Name: "kthw-k8smaster1-os.qcow2", Path: "/var/lib/libvirt/images/lab-kthw-ssd/kthw-k8smaster1-os.qcow2"},
		Data:      Volume{Pool: "kthw-ssd", Name: "kthw-k8smaster1-data.raw", Path: "/var/lib/libvirt/images/lab-kthw-ssd/kthw-k8smaster1-data.raw"},
		Seed:      Volume{Pool: "kthw-ssd", Name: "kthw-k8smaster1-seed.iso", Path: "/var/lib/libvirt/images/lab-kthw-ssd/kthw-k8smaster1-seed.iso"},
		PeerURL:   "https://192.168.199.201:2380",
		ClientURL: "https://192.168.199.201:2379",
	}
	if n1 != want {
		t.Errorf("k8smaster1 = %+v\nwant %+v", n1, want)
	}
	if byDomain, _ := p.Node("kthw-k8smaster1"); byDomain != n1 {
		t.Errorf("Node(domain) = %+v, want k8smaster1", byDomain)
	}
	if _, ok := p.Node("k8smaster3"); ok {
		t.Error("Node(k8smaster3) found in a 3-node plan")
	}
	// The story's unit file, verbatim.
	if got, want := p.Etcd.InitialCluster, "k8smaster0=https://192.168.199.200:2380,k8smaster1=https://192.168.199.201:2380,k8smaster2=https://192.168.199.202:2380"; got != want {
		t.Errorf("initial cluster = %q, want %q", got, want)
	}
	if p.Etcd.Token != "etcd-cluster-0" {
		t.Errorf("token = %q", p.Etcd.Token)
	}
	if got := strings.Join(p.Etcd.Endpoints, ","); got != "https://192.168.199.200:2379,https://192.168.199.201:2379,https://192.168.199.202:2379" {
		t.Errorf("endpoints = %s", got)
	}
	if p.Etcd.HeartbeatInterval != 100*time.Millisecond || p.Etcd.ElectionTimeout != time.Second || p.Etcd.Version != "3.6.16" {
		t.Errorf("etcd = %+v", p.Etcd)
	}
	goldenJSON(t, "plan-kthw-3.golden.json", p)
}

func TestPlanNodeCounts(t *testing.T) {
	macRE := regexp.MustCompile(`^52:54:00(:[0-9a-f]{2}){3}$`)
	for _, n := range []int{1, 3, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := Defaults()
			s.Nodes = n
			p, err := s.Plan()
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Nodes) != n || len(p.Etcd.Endpoints) != n || len(p.NodeNames()) != n {
				t.Fatalf("%d nodes, %d endpoints, %d names; want %d", len(p.Nodes), len(p.Etcd.Endpoints), len(p.NodeNames()), n)
			}
			macs := map[string]bool{}
			var peers []string
			for i, node := range p.Nodes {
				name := fmt.Sprintf("k8smaster%d", i)
				ip := fmt.Sprintf("192.168.199.%d", 200+i)
				if node.Index != i || node.Name != name || node.Domain != "kthw-"+name || node.IP.String() != ip {
					t.Errorf("node %d = %+v", i, node)
				}
				if !macRE.MatchString(node.MAC) || macs[node.MAC] {
					t.Errorf("node %d MAC %q malformed or repeated", i, node.MAC)
				}
				macs[node.MAC] = true
				peers = append(peers, name+"=https://"+ip+":2380")
			}
			if got := strings.Join(peers, ","); p.Etcd.InitialCluster != got {
				t.Errorf("initial cluster = %q, want %q", p.Etcd.InitialCluster, got)
			}
		})
	}
}

func TestPlanIsDeterministicPerLab(t *testing.T) {
	a, _ := Defaults().Plan()
	b, _ := Defaults().Plan()
	other := Defaults()
	other.Name = "other"
	c, err := other.Plan()
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Nodes {
		if a.Nodes[i].MAC != b.Nodes[i].MAC {
			t.Errorf("node %d MAC differs between runs: %s, %s", i, a.Nodes[i].MAC, b.Nodes[i].MAC)
		}
		if a.Nodes[i].MAC == c.Nodes[i].MAC {
			t.Errorf("node %d MAC %s shared by labs kthw and other", i, a.Nodes[i].MAC)
		}
	}
	if c.Network.Name != "lab-other" || c.Pools[1].Path != "/var/lib/libvirt/images/lab-other-hdd" || c.Nodes[0].Domain != "other-k8smaster0" {
		t.Errorf("lab name not applied: %+v %+v %+v", c.Network, c.Pools, c.Nodes[0])
	}
}

func TestPlanPoolsAndSubnets(t *testing.T) {
	s := Defaults()
	s.Nodes = 5
	s.Subnet = netip.MustParsePrefix("10.7.0.0/16")
	s.DataPool = "hdd"
	s.NodePools = map[string]string{"k8smaster2": "ssd"}
	s.SSDPath, s.HDDPath = "/mnt/fast", "/mnt/slow"
	p, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Network.Gateway.String() != "10.7.0.1" || p.Nodes[4].IP.String() != "10.7.0.204" {
		t.Errorf("gateway %s, k8smaster4 %s; want 10.7.0.1, 10.7.0.204", p.Network.Gateway, p.Nodes[4].IP)
	}
	for _, n := range p.Nodes {
		wantKind, wantDir := "hdd", "/mnt/slow"
		if n.Name == "k8smaster2" {
			wantKind, wantDir = "ssd", "/mnt/fast"
		}
		if n.DataPool != wantKind || n.Data.Pool != "kthw-"+wantKind || filepath.Dir(n.Data.Path) != wantDir {
			t.Errorf("%s data = %s %+v, want pool %s in %s", n.Name, n.DataPool, n.Data, wantKind, wantDir)
		}
		if n.OS.Pool != "kthw-ssd" || filepath.Dir(n.Seed.Path) != "/mnt/fast" {
			t.Errorf("%s OS/seed not on the ssd pool: %+v %+v", n.Name, n.OS, n.Seed)
		}
	}
	// The plan keeps its own copy of the overrides.
	s.NodePools["k8smaster2"] = "hdd"
	if p.Spec.NodePools["k8smaster2"] != "ssd" {
		t.Error("plan shares NodePools with the spec it came from")
	}

	// A /23 counts host numbers from its network address: .200 lands in
	// the lower /24.
	s = Defaults()
	s.Subnet = netip.MustParsePrefix("192.168.198.0/23")
	p, err = s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Nodes[0].IP.String() != "192.168.198.200" || p.Network.Gateway.String() != "192.168.198.1" {
		t.Errorf("/23: k8smaster0 %s, gateway %s", p.Nodes[0].IP, p.Network.Gateway)
	}
}

func TestPlanSmallSubnet(t *testing.T) {
	s := Defaults()
	s.Subnet = netip.MustParsePrefix("192.168.199.0/26")
	p, err := s.Plan()
	if p != nil || err == nil || !strings.Contains(err.Error(), "subnet too small for 3 nodes") ||
		!strings.Contains(err.Error(), "--subnet") {
		t.Fatalf("Plan() = %v, %v; want a subnet-too-small error naming --subnet", p, err)
	}
}

func TestPlanJSONRoundTrip(t *testing.T) {
	s := Defaults()
	s.NodePools = map[string]string{"k8smaster0": "hdd"}
	p, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Plan
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if !bytes.Equal(data, again) {
		t.Errorf("plan changed through JSON:\n%s\n%s", data, again)
	}
}

// goldenJSON compares v, as indented JSON, with testdata/name.
func goldenJSON(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", name), append(got, '\n'))
}
