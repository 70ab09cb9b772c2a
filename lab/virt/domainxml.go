package virt

import (
	"fmt"
	"net"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/kthw-lab/lab/lab/guest"
)

// Accelerators.
const (
	AccelKVM = "kvm" // hardware virtualisation: <domain type='kvm'>
	AccelTCG = "tcg" // software emulation: <domain type='qemu'>
)

// DomainSpec is one lab node as a libvirt domain.
type DomainSpec struct {
	Name      string // libvirt domain name, e.g. "kthw-k8smaster0"
	Lab       string // owner, written into <metadata>
	Node      string // node name, written into <metadata>
	VCPUs     uint
	MemoryMiB uint
	Accel     string // AccelKVM or AccelTCG

	Boot Boot // direct kernel boot; disk boot when Boot.Kernel is empty

	OSDisk         string // path of the OS volume (qcow2), attached as vda
	DataDisk       string // path of the data volume, attached as vdb with cache='none'; empty for none
	DataDiskFormat string // FormatRaw or FormatQcow2; FormatRaw when empty
	SeedISO        string // path of the NoCloud seed ISO, a CD-ROM on virtio-scsi; empty for none

	Network string // libvirt network name
	MAC     string // the interface's MAC address

	ConsoleLog string // file receiving the serial console

	// UUID, when set, is the domain's UUID, recorded in the lab's state
	// before the domain is defined; an existing domain of that name is
	// then redefined only when it has this UUID.
	UUID string
}

// Boot selects direct kernel boot.
type Boot struct {
	Kernel  string // path of the kernel on the host
	Initrd  string // path of the initrd on the host
	Cmdline string // e.g. "root=/dev/vda console=ttyS0"
}

func (s DomainSpec) validate() error {
	abs := func(what, p string) error {
		if p != "" && !strings.HasPrefix(p, "/") {
			return fmt.Errorf("domain %q: %s path %q is not absolute", s.Name, what, p)
		}
		return nil
	}
	switch {
	case !validName(s.Name):
		return fmt.Errorf("invalid domain name %q", s.Name)
	case s.Lab == "":
		return fmt.Errorf("domain %q: no lab name", s.Name)
	case s.VCPUs == 0:
		return fmt.Errorf("domain %q: no vCPUs", s.Name)
	case s.MemoryMiB < 64:
		return fmt.Errorf("domain %q: %d MiB of memory is too little", s.Name, s.MemoryMiB)
	case s.Accel != AccelKVM && s.Accel != AccelTCG:
		return fmt.Errorf("domain %q: accel %q is neither %q nor %q", s.Name, s.Accel, AccelKVM, AccelTCG)
	case s.OSDisk == "":
		return fmt.Errorf("domain %q: no OS disk", s.Name)
	case s.Boot.Kernel == "" && (s.Boot.Initrd != "" || s.Boot.Cmdline != ""):
		return fmt.Errorf("domain %q: initrd or kernel command line without a kernel", s.Name)
	case s.DataDiskFormat != "" && s.DataDiskFormat != FormatRaw && s.DataDiskFormat != FormatQcow2:
		return fmt.Errorf("domain %q: data disk format %q is neither %q nor %q", s.Name, s.DataDiskFormat, FormatRaw, FormatQcow2)
	case s.Network == "":
		return fmt.Errorf("domain %q: no network", s.Name)
	}
	if _, err := net.ParseMAC(s.MAC); err != nil || len(s.MAC) != len("52:54:00:00:00:00") {
		return fmt.Errorf("domain %q: invalid MAC address %q", s.Name, s.MAC)
	}
	for _, p := range [][2]string{
		{"kernel", s.Boot.Kernel}, {"initrd", s.Boot.Initrd}, {"OS disk", s.OSDisk},
		{"data disk", s.DataDisk}, {"seed ISO", s.SeedISO}, {"console log", s.ConsoleLog},
	} {
		if err := abs(p[0], p[1]); err != nil {
			return err
		}
	}
	return nil
}

// DomainXML returns the libvirt domain definition for s.
func DomainXML(s DomainSpec) (string, error) {
	def, err := domainDef(s)
	if err != nil {
		return "", err
	}
	return def.Marshal()
}

func domainDef(s DomainSpec) (*libvirtxml.Domain, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	def := &libvirtxml.Domain{
		Type:     "kvm",
		Name:     s.Name,
		UUID:     s.UUID,
		Metadata: &libvirtxml.DomainMetadata{XML: metadataXML(s.Lab, s.Node)},
		Memory:   &libvirtxml.DomainMemory{Value: s.MemoryMiB, Unit: "MiB"},
		VCPU:     &libvirtxml.DomainVCPU{Value: s.VCPUs},
		OS:       domainOS(s.Boot),
		Features: &libvirtxml.DomainFeatureList{
			ACPI: &libvirtxml.DomainFeature{},
			APIC: &libvirtxml.DomainFeatureAPIC{},
		},
		CPU:        domainCPU(s.Accel),
		Clock:      &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices:    domainDevices(s),
	}
	if s.Accel == AccelTCG {
		def.Type = "qemu"
	}
	return def, nil
}

func domainOS(b Boot) *libvirtxml.DomainOS {
	os := &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Arch: "x86_64", Type: "hvm"}}
	if b.Kernel == "" {
		os.BootDevices = []libvirtxml.DomainBootDevice{{Dev: "hd"}}
		return os
	}
	os.Kernel, os.Initrd, os.Cmdline = b.Kernel, b.Initrd, b.Cmdline
	return os
}

// domainCPU passes the host CPU through under KVM, minus arch-capabilities
// (MSR 0x10a), which the KVM of the test machines refuses to set. TCG
// cannot pass a host CPU through; qemu64 is QEMU's own default model.
func domainCPU(accel string) *libvirtxml.DomainCPU {
	if accel == AccelKVM {
		return &libvirtxml.DomainCPU{
			Mode:     "host-passthrough",
			Check:    "none",
			Features: []libvirtxml.DomainCPUFeature{{Policy: "disable", Name: "arch-capabilities"}},
		}
	}
	return &libvirtxml.DomainCPU{
		Mode:  "custom",
		Match: "exact",
		Check: "none",
		Model: &libvirtxml.DomainCPUModel{Fallback: "forbid", Value: "qemu64"},
	}
}

func domainDevices(s DomainSpec) *libvirtxml.DomainDeviceList {
	zero := uint(0)
	d := &libvirtxml.DomainDeviceList{
		Disks: []libvirtxml.DomainDisk{fileDisk(s.OSDisk, FormatQcow2, "vda", nil)},
		Interfaces: []libvirtxml.DomainInterface{{
			MAC:    &libvirtxml.DomainInterfaceMAC{Address: strings.ToLower(s.MAC)},
			Source: &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: s.Network}},
			Model:  &libvirtxml.DomainInterfaceModel{Type: "virtio"},
		}},
		// A pty keeps `virsh console` working; the log file keeps every
		// line, also across restarts (append).
		Serials: []libvirtxml.DomainSerial{{
			Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
			Target: &libvirtxml.DomainSerialTarget{Type: "isa-serial", Port: &zero},
			Log:    consoleLog(s.ConsoleLog),
		}},
		Consoles: []libvirtxml.DomainConsole{{
			Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
			Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &zero},
		}},
		// Early boot (cloud-init, sshd host keys) waits for entropy; TCG
		// guests have no RDRAND, so feed them the host's.
		RNGs: []libvirtxml.DomainRNG{{
			Model:   "virtio",
			Backend: &libvirtxml.DomainRNGBackend{Random: &libvirtxml.DomainRNGBackendRandom{Device: "/dev/urandom"}},
		}},
	}
	if s.DataDisk != "" {
		format := s.DataDiskFormat
		if format == "" {
			format = FormatRaw
		}
		// cache='none' opens the file with O_DIRECT and passes the guest's
		// flushes to the host disk, so fsync latency is the disk's own.
		d.Disks = append(d.Disks, fileDisk(s.DataDisk, format, guest.DataTarget, &libvirtxml.DomainDiskDriver{Cache: "none", IO: "native"}))
	}
	if s.SeedISO != "" {
		// The Debian cloud kernel has no AHCI driver: the CD-ROM sits on
		// virtio-scsi.
		d.Controllers = []libvirtxml.DomainController{{Type: "scsi", Index: &zero, Model: "virtio-scsi"}}
		d.Disks = append(d.Disks, libvirtxml.DomainDisk{
			Device:   "cdrom",
			Driver:   &libvirtxml.DomainDiskDriver{Name: "qemu", Type: FormatRaw},
			Source:   &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: s.SeedISO}},
			Target:   &libvirtxml.DomainDiskTarget{Dev: "sda", Bus: "scsi"},
			ReadOnly: &libvirtxml.DomainDiskReadOnly{},
			Address: &libvirtxml.DomainAddress{Drive: &libvirtxml.DomainAddressDrive{
				Controller: &zero, Bus: &zero, Target: &zero, Unit: &zero,
			}},
		})
	}
	return d
}

func fileDisk(path, format, dev string, driver *libvirtxml.DomainDiskDriver) libvirtxml.DomainDisk {
	if driver == nil {
		driver = &libvirtxml.DomainDiskDriver{}
	}
	driver.Name, driver.Type = "qemu", format
	return libvirtxml.DomainDisk{
		Device: "disk",
		Driver: driver,
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: path}},
		Target: &libvirtxml.DomainDiskTarget{Dev: dev, Bus: "virtio"},
	}
}

func consoleLog(path string) *libvirtxml.DomainChardevLog {
	if path == "" {
		return nil
	}
	return &libvirtxml.DomainChardevLog{File: path, Append: "on"}
}
