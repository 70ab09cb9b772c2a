package guest

import "path"

// Where Kubernetes the hard way puts etcd on a node.
const (
	// BinDir holds etcd and etcdctl.
	BinDir = "/usr/local/bin"
	// EtcdBinary is the etcd that the unit runs.
	EtcdBinary = BinDir + "/etcd"
	// EtcdctlBinary is the real etcdctl, for people on the node.
	EtcdctlBinary = BinDir + "/etcdctl"
	// CertDir holds the CA certificate and the member's key pair.
	CertDir = "/etc/etcd"
	// DataDir is etcd's --data-dir, the mount point of the data disk.
	DataDir = "/var/lib/etcd"
	// UnitPath is etcd's systemd unit.
	UnitPath = "/etc/systemd/system/etcd.service"
)

// The certificate files in CertDir: the CA and the "kubernetes" key pair
// that etcd serves, peers and authenticates with. The lab's PKI directory
// and `lab render` use the same names.
const (
	CAFile   = "ca.pem"
	CertFile = "kubernetes.pem"
	KeyFile  = "kubernetes-key.pem"
)

// MemberDir is what etcd keeps in DataDir (its WAL and snapshots): removing
// it makes the next start bootstrap a new cluster.
const MemberDir = DataDir + "/member"

// LabEtcdBinary is where the lab's own etcd is kept while an arm of a
// scenario runs another one in EtcdBinary.
const LabEtcdBinary = EtcdBinary + ".lab"

// ArmDropIn is a scenario arm's drop-in for the etcd unit (environment
// such as ETCD_PRE_VOTE); every arm removes the previous one's.
const ArmDropIn = UnitPath + ".d/lab-arm.conf"

// SeedMount is where the seed's runcmd mounts the seed ISO to install the
// binaries it carries.
const SeedMount = "/run/lab-seed"

// LabBinary is where this program is carried to run on the node (the
// fsync probe): outside BinDir, as it is the lab's tool and not the
// story's.
const LabBinary = "/usr/local/lib/lab/lab"

// CertPath returns the path on the node of certificate file name (CAFile,
// CertFile or KeyFile).
func CertPath(name string) string { return path.Join(CertDir, name) }
