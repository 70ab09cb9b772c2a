package doctor

// Requirements is what the lab to be created needs from the host.
type Requirements struct {
	// ConnectURI is the libvirt URI (--connect), "qemu:///system".
	ConnectURI string
	// Remote is set for a remote host (qemu+ssh://): libvirt is asked
	// through the tunnel (Lookups.Libvirt with no socket), and what lives on
	// that host (qemu, /dev/kvm, memory, pool disks) is not checked here.
	Remote bool
	// Accel is "auto", "kvm" or "tcg" (--accel): with kvm a usable /dev/kvm
	// is required, with tcg it is not needed, with auto its absence is a
	// warning.
	Accel string
	// Nodes is the number of nodes; NodeMemory the memory of each (bytes).
	Nodes      int
	NodeMemory uint64
	// NodeOverhead is what one qemu process needs beyond its guest's memory
	// (device emulation, the TCG translation cache); HostOverhead what the
	// host must keep for itself while the lab runs. Both in bytes.
	NodeOverhead uint64
	HostOverhead uint64
	// Disks are the directories the lab writes to and how much each needs.
	// Needs of directories on one filesystem are added up.
	Disks []DiskNeed
	// SetupCommand is the command that installs and starts what the host
	// needs; DefaultSetupCommand when empty.
	SetupCommand string
	// ImageFix and EtcdFix are the commands that provide a base image and
	// an etcd binary; DefaultImageFix and DefaultEtcdFix when empty.
	ImageFix string
	EtcdFix  string
}

// DiskNeed is a directory and the space the lab needs in it.
type DiskNeed struct {
	// Label says what the directory is for ("image cache", "ssd pool").
	Label string
	// Path is the directory; it need not exist yet.
	Path string
	// Need is the space needed there, in bytes.
	Need uint64
	// Fix is the command that puts the directory elsewhere
	// ("lab create --ssd-path DIR"); empty means only freeing space helps.
	Fix string
}

// Defaults for the fields of Requirements that name commands, and estimates
// of the overheads: a qemu process under TCG keeps a translation cache and
// its device emulation beside the guest's memory.
const (
	DefaultSetupCommand = "sudo scripts/host-setup.sh"
	DefaultImageFix     = "sudo lab image build"
	DefaultEtcdFix      = "lab etcd build"
	DefaultNodeOverhead = 256 << 20
	DefaultHostOverhead = 512 << 20
)

func (r Requirements) setup() string    { return or(r.SetupCommand, DefaultSetupCommand) }
func (r Requirements) imageFix() string { return or(r.ImageFix, DefaultImageFix) }
func (r Requirements) etcdFix() string  { return or(r.EtcdFix, DefaultEtcdFix) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
