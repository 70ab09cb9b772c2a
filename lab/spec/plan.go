package spec

import (
	"crypto/sha256"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"
)

// Etcd cluster constants of the story's unit file.
const (
	EtcdClusterToken = "etcd-cluster-0"
	EtcdPeerPort     = 2380
	EtcdClientPort   = 2379
)

// Plan is a validated Spec with every name, address and path derived. It is
// pure data: render writes it out, create builds it, status and destroy find
// objects by it.
type Plan struct {
	// Spec is the request, with SSDPath and HDDPath resolved to their
	// defaults when they were empty.
	Spec    Spec    `json:"spec"`
	Network Network `json:"network"`
	// Pools are the lab's two dir pools, ssd first.
	Pools []Pool `json:"pools"`
	Nodes []Node `json:"nodes"`
	Etcd  Etcd   `json:"etcd"`
}

// Network is the lab's libvirt network and its bridge.
type Network struct {
	Name    string       `json:"name"`    // lab-<name>
	Bridge  string       `json:"bridge"`  // lab-<name>, ≤ 15 characters
	Subnet  netip.Prefix `json:"subnet"`  // as requested
	Gateway netip.Addr   `json:"gateway"` // host number 1, the host's address on the bridge
	Mode    string       `json:"mode"`    // isolated or nat
}

// Pool is one of the lab's libvirt dir pools.
type Pool struct {
	Kind string `json:"kind"` // ssd or hdd
	Name string `json:"name"` // lab-<name>-<kind>
	Path string `json:"path"` // the pool's directory
}

// Volume is a file in a pool.
type Volume struct {
	Pool string `json:"pool"` // the pool's libvirt name
	Name string `json:"name"` // the volume's libvirt name, also its file name
	Path string `json:"path"` // the pool's path joined with Name
}

// Node is one VM and etcd member.
type Node struct {
	Index  int        `json:"index"`
	Name   string     `json:"name"`   // k8smaster<i>: hostname and etcd member name
	Domain string     `json:"domain"` // <lab>-k8smaster<i>: libvirt domain name
	IP     netip.Addr `json:"ip"`     // host number 200+i
	// MAC is a stable address under QEMU's locally administered 52:54:00
	// prefix, derived from the lab name and index so re-runs keep it.
	MAC string `json:"mac"`
	// DataPool is the kind of pool ("ssd" or "hdd") holding Data.
	DataPool string `json:"dataPool"`
	// OS is the qcow2 overlay on the base image and Seed the NoCloud ISO;
	// both stay on the ssd pool so only etcd's data directory sees the disk
	// under test. Data holds /var/lib/etcd.
	OS   Volume `json:"os"`
	Data Volume `json:"data"`
	Seed Volume `json:"seed"`
	// PeerURL and ClientURL are this member's https URLs on ports 2380 and
	// 2379.
	PeerURL   string `json:"peerURL"`
	ClientURL string `json:"clientURL"`
}

// Etcd is the cluster-wide part of every member's configuration.
type Etcd struct {
	Version string `json:"version"`
	// Binary is the --etcd-binary override; empty means the cache.
	Binary string `json:"binary,omitempty"`
	// Token is --initial-cluster-token.
	Token string `json:"token"`
	// InitialCluster is --initial-cluster:
	// k8smaster0=https://192.168.199.200:2380,...
	InitialCluster string `json:"initialCluster"`
	// Endpoints are the client URLs, in node order, for clientv3 and
	// ETCDCTL_ENDPOINTS.
	Endpoints         []string      `json:"endpoints"`
	HeartbeatInterval time.Duration `json:"heartbeatInterval"`
	ElectionTimeout   time.Duration `json:"electionTimeout"`
}

// Plan validates s and derives the lab it describes. The error is Validate's.
func (s Spec) Plan() (*Plan, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.SSDPath, s.HDDPath = s.ssdPath(), s.hddPath()
	s.NodePools = cloneMap(s.NodePools)
	prefix := ObjectPrefix(s.Name)
	p := &Plan{
		Spec: s,
		Network: Network{
			Name:    prefix,
			Bridge:  prefix,
			Subnet:  s.Subnet,
			Gateway: hostAddr(s.Subnet, 1),
			Mode:    s.NetworkMode,
		},
		Pools: []Pool{
			{Kind: PoolSSD, Name: PoolName(s.Name, PoolSSD), Path: s.SSDPath},
			{Kind: PoolHDD, Name: PoolName(s.Name, PoolHDD), Path: s.HDDPath},
		},
		Etcd: Etcd{
			Version:           s.EtcdVersion,
			Binary:            s.EtcdBinary,
			Token:             EtcdClusterToken,
			HeartbeatInterval: s.HeartbeatInterval,
			ElectionTimeout:   s.ElectionTimeout,
		},
	}
	macs := macAddresses(s.Name, s.Nodes)
	peers := make([]string, 0, s.Nodes)
	for i := range s.Nodes {
		n := p.node(i, macs[i])
		p.Nodes = append(p.Nodes, n)
		peers = append(peers, n.Name+"="+n.PeerURL)
		p.Etcd.Endpoints = append(p.Etcd.Endpoints, n.ClientURL)
	}
	p.Etcd.InitialCluster = strings.Join(peers, ",")
	return p, nil
}

func (p *Plan) node(i int, mac string) Node {
	s := p.Spec
	name := NodeName(i)
	ip := hostAddr(s.Subnet, FirstHost+i)
	ssd := p.Pool(PoolSSD)
	data := p.Pool(s.poolFor(name))
	return Node{
		Index:     i,
		Name:      name,
		Domain:    DomainName(s.Name, i),
		IP:        ip,
		MAC:       mac,
		DataPool:  data.Kind,
		OS:        ssd.volume(VolumeName(s.Name, name, "os.qcow2")),
		Data:      data.volume(VolumeName(s.Name, name, "data.raw")),
		Seed:      ssd.volume(VolumeName(s.Name, name, "seed.iso")),
		PeerURL:   url(ip, EtcdPeerPort),
		ClientURL: url(ip, EtcdClientPort),
	}
}

// Pool returns the pool of the given kind ("ssd" or "hdd"); the zero Pool
// if there is none.
func (p *Plan) Pool(kind string) Pool {
	for _, pool := range p.Pools {
		if pool.Kind == kind {
			return pool
		}
	}
	return Pool{}
}

// Node returns the node with the given name (k8smaster1) or domain name
// (kthw-k8smaster1).
func (p *Plan) Node(name string) (Node, bool) {
	for _, n := range p.Nodes {
		if n.Name == name || n.Domain == name {
			return n, true
		}
	}
	return Node{}, false
}

// NodeNames lists the node names in order, for messages and completion.
func (p *Plan) NodeNames() []string {
	names := make([]string, len(p.Nodes))
	for i, n := range p.Nodes {
		names[i] = n.Name
	}
	return names
}

func (pool Pool) volume(name string) Volume {
	return Volume{Pool: pool.Name, Name: name, Path: filepath.Join(pool.Path, name)}
}

// hostAddr is the address with host number n in p (n counted from the
// network address). Validate has checked that n fits.
func hostAddr(p netip.Prefix, n int) netip.Addr {
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func url(ip netip.Addr, port int) string {
	return "https://" + netip.AddrPortFrom(ip, uint16(port)).String()
}

// macAddresses derives n distinct MACs 52:54:00:xx:xx:xx from a hash of the
// lab name and node index, so the same lab always gets the same addresses
// and two labs almost never share one. A collision inside the lab is resolved
// by rehashing with a counter, still deterministically.
func macAddresses(lab string, n int) []string {
	seen := make(map[string]bool, n)
	macs := make([]string, n)
	for i := range n {
		for try := 0; ; try++ {
			key := fmt.Sprintf("lab/%s/%d", lab, i)
			if try > 0 {
				key += fmt.Sprintf("/%d", try)
			}
			h := sha256.Sum256([]byte(key))
			mac := fmt.Sprintf("52:54:00:%02x:%02x:%02x", h[0], h[1], h[2])
			if !seen[mac] {
				seen[mac] = true
				macs[i] = mac
				break
			}
		}
	}
	return macs
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
