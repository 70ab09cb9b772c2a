package spec

import (
	"net/netip"
	"path/filepath"
	"strconv"
	"time"
)

// Pool kinds: the two libvirt dir pools a lab owns. Data disks go on one of
// them; pointing their paths at a real SSD and a real HDD is the experiment.
const (
	PoolSSD = "ssd"
	PoolHDD = "hdd"
)

// Network modes. Isolated networks have no <forward>, so nothing in the lab
// can reach beyond the host; nat lets guests out through the host.
const (
	NetworkIsolated = "isolated"
	NetworkNAT      = "nat"
)

// Accelerators: kvm for hardware virtualisation, tcg for software emulation
// (slow but works where KVM does not), auto lets the caller probe the host.
const (
	AccelAuto = "auto"
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
)

// Defaults of the story: the names and addresses "Kubernetes the hard way"
// uses, and etcd's own timing defaults.
const (
	DefaultName              = "kthw"
	DefaultNodes             = 3
	DefaultCPUs              = 2
	DefaultMemoryMiB         = 1024
	DefaultHeartbeatInterval = 100 * time.Millisecond
	DefaultElectionTimeout   = 1000 * time.Millisecond
	DefaultEtcdVersion       = "3.6.16"
	// DefaultPoolDir is where pool directories go unless --ssd-path or
	// --hdd-path says otherwise; libvirt's own image directory is already
	// labelled for qemu's access.
	DefaultPoolDir = "/var/lib/libvirt/images"
)

// DefaultSubnet is the story's 192.168.199.0/24.
var DefaultSubnet = netip.MustParsePrefix("192.168.199.0/24")

// Spec is what the user asked for. Its zero value is not useful; start from
// Defaults and override fields from flags. Empty SSDPath and HDDPath mean
// "derived from the lab name" (see PoolPath), so changing --lab moves them.
type Spec struct {
	// Name is the lab name (--lab): the prefix of every libvirt object.
	Name string `json:"name"`
	// Subnet is the lab network (--subnet); nodes get host numbers 200+i.
	Subnet netip.Prefix `json:"subnet"`
	// Nodes is the etcd member count (--nodes), odd.
	Nodes int `json:"nodes"`
	// CPUs is the vCPU count per node (--cpus).
	CPUs int `json:"cpus"`
	// MemoryMiB is the memory per node in MiB (--memory).
	MemoryMiB int `json:"memoryMiB"`
	// DataPool is the pool ("ssd" or "hdd") of every node's data disk
	// (--data-pool) unless NodePools names the node.
	DataPool string `json:"dataPool"`
	// NodePools overrides DataPool per node name (k8smaster1 → hdd).
	NodePools map[string]string `json:"nodePools,omitempty"`
	// SSDPath and HDDPath are the directories of the two pools (--ssd-path,
	// --hdd-path); empty means PoolPath(Name, kind).
	SSDPath string `json:"ssdPath,omitempty"`
	HDDPath string `json:"hddPath,omitempty"`
	// NetworkMode is "isolated" or "nat" (--network-mode).
	NetworkMode string `json:"networkMode"`
	// Accel is "auto", "kvm" or "tcg" (--accel).
	Accel string `json:"accel"`
	// HeartbeatInterval and ElectionTimeout are etcd's raft timing
	// (--heartbeat-interval, --election-timeout, in milliseconds on the
	// command line as etcd spells them).
	HeartbeatInterval time.Duration `json:"heartbeatInterval"`
	ElectionTimeout   time.Duration `json:"electionTimeout"`
	// EtcdBinary is an etcd executable to install instead of the cached
	// build (--etcd-binary); empty means the cache.
	EtcdBinary string `json:"etcdBinary,omitempty"`
	// Image is the base image, a cached image name or an absolute path
	// (--image); empty means the default image.
	Image string `json:"image,omitempty"`
	// EtcdVersion is the etcd release to run (--etcd-version), MAJOR.MINOR.PATCH.
	EtcdVersion string `json:"etcdVersion"`
}

// Defaults returns the story's lab: three nodes of 2 vCPUs and 1 GiB on
// 192.168.199.0/24, data on the ssd pool, an isolated network, etcd's default
// timing.
func Defaults() Spec {
	return Spec{
		Name:              DefaultName,
		Subnet:            DefaultSubnet,
		Nodes:             DefaultNodes,
		CPUs:              DefaultCPUs,
		MemoryMiB:         DefaultMemoryMiB,
		DataPool:          PoolSSD,
		NetworkMode:       NetworkIsolated,
		Accel:             AccelAuto,
		HeartbeatInterval: DefaultHeartbeatInterval,
		ElectionTimeout:   DefaultElectionTimeout,
		EtcdVersion:       DefaultEtcdVersion,
	}
}

// PoolPath is the default directory of a lab's pool:
// /var/lib/libvirt/images/lab-<name>-<kind>.
func PoolPath(name, kind string) string {
	return filepath.Join(DefaultPoolDir, ObjectPrefix(name)+"-"+kind)
}

// PoolName is the libvirt name of a lab's pool: <name>-<kind>. Pools carry
// no metadata: the UUID lab gives them is their ownership marker
// (lab/virt.PoolUUID), never the name alone.
func PoolName(name, kind string) string { return name + "-" + kind }

// ObjectPrefix is the prefix of the lab's network, bridge and pool directories:
// lab-<name>. Objects whose names carry it may belong to the lab; the lab's
// state says which do.
func ObjectPrefix(name string) string { return "lab-" + name }

// VolumeName is the file name of one of a node's volumes:
// <name>-<node>-<what>. The prefix marks the file as the lab's even in a
// pool directory the user pointed at a disk that holds other files. The data
// volume is raw so that fsync timings measure the disk, not qcow2 metadata.
func VolumeName(name, node, what string) string {
	return name + "-" + node + "-" + what
}

// NodeName is the hostname and etcd member name of node i: k8smaster<i>.
func NodeName(i int) string { return "k8smaster" + strconv.Itoa(i) }

// DomainName is the libvirt domain of node i: <name>-k8smaster<i>.
func DomainName(name string, i int) string { return name + "-" + NodeName(i) }

// poolFor is the data pool of node i: its NodePools override or DataPool.
func (s Spec) poolFor(node string) string {
	if p, ok := s.NodePools[node]; ok {
		return p
	}
	return s.DataPool
}

// ssdPath and hddPath resolve empty paths to their defaults.
func (s Spec) ssdPath() string {
	if s.SSDPath == "" {
		return PoolPath(s.Name, PoolSSD)
	}
	return s.SSDPath
}

func (s Spec) hddPath() string {
	if s.HDDPath == "" {
		return PoolPath(s.Name, PoolHDD)
	}
	return s.HDDPath
}
