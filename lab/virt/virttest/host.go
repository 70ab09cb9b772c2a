package virttest

import (
	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Host is what the fake daemon says about the machine it runs on: what
// virt's Host, HasKVM and Size ask.
type Host struct {
	Name           string
	LibvirtVersion uint64 // major*1e6 + minor*1e3 + micro, as libvirt encodes it
	QEMUVersion    uint64
	CPUVendor      string
	CPUModel       string
	Microcode      int      // 0: none reported
	Security       []string // security models, "none", "dac", "apparmor", "selinux"
	// KVM is whether domains of type kvm are offered; NoKVM is the
	// daemon's message when they are not.
	KVM       bool
	NoKVM     string
	CPUs      int32
	MemoryKiB uint64
}

// DefaultHost is a host like the ones lab is built on: Debian 12's libvirt
// and QEMU, /dev/kvm present, two CPUs, 8 GiB, no MAC confinement.
func DefaultHost() Host {
	return Host{
		Name:           "fakehost",
		LibvirtVersion: 9000000,
		QEMUVersion:    7002022,
		CPUVendor:      "Intel",
		CPUModel:       "Skylake-Client-IBRS",
		Microcode:      240,
		Security:       []string{"none", "dac"},
		KVM:            true,
		CPUs:           2,
		MemoryKiB:      8 << 20,
	}
}

// SetHost replaces what the daemon says about its host.
func (f *Fake) SetHost(h Host) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.host = h
}

// ConnectGetHostname implements the libvirt call.
func (f *Fake) ConnectGetHostname() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectGetHostname", false); err != nil {
		return "", err
	}
	return f.host.Name, nil
}

// ConnectGetLibVersion implements the libvirt call.
func (f *Fake) ConnectGetLibVersion() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectGetLibVersion", false); err != nil {
		return 0, err
	}
	return f.host.LibvirtVersion, nil
}

// ConnectGetVersion implements the libvirt call: the hypervisor's version.
func (f *Fake) ConnectGetVersion() (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectGetVersion", false); err != nil {
		return 0, err
	}
	return f.host.QEMUVersion, nil
}

// ConnectGetCapabilities implements the libvirt call: the host's CPU and
// security models, as the capabilities document carries them.
func (f *Fake) ConnectGetCapabilities() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectGetCapabilities", false); err != nil {
		return "", err
	}
	h := f.host
	caps := libvirtxml.Caps{Host: libvirtxml.CapsHost{
		CPU: &libvirtxml.CapsHostCPU{Arch: "x86_64", Vendor: h.CPUVendor, Model: h.CPUModel},
	}}
	if h.Microcode != 0 {
		caps.Host.CPU.Microcode = &libvirtxml.CapsHostCPUMicrocode{Version: h.Microcode}
	}
	for _, m := range h.Security {
		caps.Host.SecModel = append(caps.Host.SecModel, libvirtxml.CapsHostSecModel{Name: m})
	}
	return caps.Marshal()
}

// ConnectGetDomainCapabilities implements the libvirt call for x86_64
// guests of type kvm or qemu. Like the daemon, it refuses kvm on a host
// without KVM (configuration unsupported) and a virtualisation type it does
// not know (invalid argument).
func (f *Fake) ConnectGetDomainCapabilities(_, arch, _, virttype libvirt.OptString, _ libvirt.ConnectGetDomainCapabilitiesFlags) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ConnectGetDomainCapabilities", false); err != nil {
		return "", err
	}
	a, t := "x86_64", "qemu"
	if len(arch) > 0 {
		a = arch[0]
	}
	if len(virttype) > 0 {
		t = virttype[0]
	}
	switch {
	case t != "kvm" && t != "qemu":
		return "", lverr(libvirt.ErrInvalidArg, "invalid argument: unknown virttype: %s", t)
	case a != "x86_64":
		return "", lverr(libvirt.ErrConfigUnsupported, "unsupported configuration: Emulator for arch '%s' not found", a)
	case t == "kvm" && !f.host.KVM:
		msg := f.host.NoKVM
		if msg == "" {
			msg = "KVM is not supported by '/usr/bin/qemu-system-x86_64' on this host"
		}
		return "", lverr(libvirt.ErrConfigUnsupported, "unsupported configuration: %s", msg)
	}
	caps := libvirtxml.DomainCaps{Path: "/usr/bin/qemu-system-x86_64", Domain: t, Arch: a, Machine: "pc-i440fx-7.2"}
	return caps.Marshal()
}

// NodeGetInfo implements the libvirt call: the host's CPUs and memory (in
// KiB), as one socket with one thread per core.
func (f *Fake) NodeGetInfo() (rModel [32]int8, rMemory uint64, rCpus int32, rMhz int32, rNodes int32, rSockets int32, rCores int32, rThreads int32, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("NodeGetInfo", false); err != nil {
		return rModel, 0, 0, 0, 0, 0, 0, 0, err
	}
	for i, c := range "x86_64" {
		rModel[i] = int8(c)
	}
	h := f.host
	return rModel, h.MemoryKiB, h.CPUs, 2400, 1, 1, h.CPUs, 1, nil
}
