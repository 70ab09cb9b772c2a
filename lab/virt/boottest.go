package virt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// BootTestLab is the owner written into a boot test's marker: probes belong to
// no lab. A probe is transient and started with autodestroy, so libvirt
// removes it when the connection of the process that made it closes,
// killed or not: nothing is ever left for another run to clean up.
const BootTestLab = "lab-boot-probe"

// BootTestSpec is a short-lived guest that boots the base image to see whether
// an accelerator runs it: no network, no writes, nothing left behind.
type BootTestSpec struct {
	Name      string // libvirt domain name
	Accel     string // AccelKVM or AccelTCG
	MemoryMiB uint
	Boot      Boot   // direct kernel boot; disk boot from Disk when Boot.Kernel is empty
	Disk      string // the base image (qcow2), attached read-only; may be empty with a kernel

	// PlainPassthrough passes the host CPU through as it is, without the
	// arch-capabilities workaround that lab domains carry under KVM.
	PlainPassthrough bool
}

// BootTestXML returns the transient domain definition for s: one vCPU, the
// serial console as a pty (read through libvirt), a read-only disk.
func BootTestXML(s BootTestSpec) (string, error) {
	if !validName(s.Name) {
		return "", fmt.Errorf("invalid boot test domain name %q", s.Name)
	}
	if s.Boot.Kernel == "" && s.Disk == "" {
		return "", fmt.Errorf("boot test %q: neither a kernel nor a disk to boot", s.Name)
	}
	zero := uint(0)
	cpu := domainCPU(s.Accel)
	if s.Accel == AccelKVM && s.PlainPassthrough {
		cpu.Features = nil
	}
	def := &libvirtxml.Domain{
		Type:     "kvm",
		Name:     s.Name,
		Metadata: &libvirtxml.DomainMetadata{XML: metadataXML(BootTestLab, "")},
		Memory:   &libvirtxml.DomainMemory{Value: max(s.MemoryMiB, 256), Unit: "MiB"},
		VCPU:     &libvirtxml.DomainVCPU{Value: 1},
		OS:       domainOS(s.Boot),
		Features: &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		CPU:      cpu,
		Clock:    &libvirtxml.DomainClock{Offset: "utc"},
		// A boot test that reboots or powers off is finished.
		OnPoweroff: "destroy",
		OnReboot:   "destroy",
		OnCrash:    "destroy",
		Devices: &libvirtxml.DomainDeviceList{
			Serials: []libvirtxml.DomainSerial{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainSerialTarget{Type: "isa-serial", Port: &zero},
			}},
			Consoles: []libvirtxml.DomainConsole{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &zero},
			}},
		},
	}
	if s.Accel == AccelTCG {
		def.Type = "qemu"
	}
	if s.Disk != "" {
		d := fileDisk(s.Disk, FormatQcow2, "vda", nil)
		d.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
		def.Devices.Disks = []libvirtxml.DomainDisk{d}
	}
	return def.Marshal()
}

// bootTestConn is what a boot test needs beyond conn. *libvirt.Libvirt and
// virttest.Fake have it, as they have hostConn, kvmConn and nodeConn; a
// conn without them makes these methods return ErrNoProbes.
type bootTestConn interface {
	DomainCreateXML(xml string, flags libvirt.DomainCreateFlags) (libvirt.Domain, error)
	DomainOpenConsole(dom libvirt.Domain, dev libvirt.OptString, w io.Writer, flags uint32) error
	DomainResume(dom libvirt.Domain) error
}

var _ bootTestConn = (*libvirt.Libvirt)(nil)

// ErrNoBootTests is returned by StartBootTest on a connection that cannot run one.
var ErrNoBootTests = errors.New("this libvirt connection cannot run boot tests")

// ErrBootTestExists is returned by StartBootTest when its domain name is taken.
var ErrBootTestExists = errors.New("boot test name in use")

// BootTest is a running boot test.
type BootTest struct {
	p       *Provider
	dom     libvirt.Domain
	console chan error // the console stream's end
	once    sync.Once
}

// StartBootTest creates s as a transient domain, paused, attaches console to
// its serial console and then lets it run, so not a byte of the boot is
// missed. A domain of that name that exists already is never touched: it
// is another run's probe (each run names its own, see accel.ProbeName) or
// not lab's at all, and StartBootTest returns an error naming it.
// Stop the probe with Stop; a transient domain leaves nothing behind.
func (p *Provider) StartBootTest(ctx context.Context, s BootTestSpec, console io.Writer) (*BootTest, error) {
	pc, ok := p.c.(bootTestConn)
	if !ok {
		return nil, ErrNoBootTests
	}
	doc, err := BootTestXML(s)
	if err != nil {
		return nil, err
	}
	if _, err := p.c.DomainLookupByName(s.Name); err == nil {
		return nil, fmt.Errorf("starting boot test %q: a domain of that name exists (another run's probe, or not lab's); it is left alone: %w", s.Name, ErrBootTestExists)
	} else if !isNotFound(err) {
		return nil, fmt.Errorf("looking up domain %q: %w", s.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("starting boot test %q: %w", s.Name, err)
	}
	dom, err := pc.DomainCreateXML(doc, libvirt.DomainStartPaused|libvirt.DomainStartAutodestroy)
	if err != nil {
		return nil, fmt.Errorf("starting boot test %q: %w", s.Name, err)
	}
	pr := &BootTest{p: p, dom: dom, console: make(chan error, 1)}
	go func() {
		pr.console <- pc.DomainOpenConsole(dom, nil, console, uint32(libvirt.DomainConsoleForce))
	}()
	if err := pc.DomainResume(dom); err != nil {
		pr.Stop()
		return nil, fmt.Errorf("resuming boot test %q: %w", s.Name, err)
	}
	return pr, nil
}

// State returns the probe's state and libvirt's reason code for it.
func (pr *BootTest) State() (State, int32, error) {
	st, reason, err := pr.p.c.DomainGetState(pr.dom, 0)
	if isNotFound(err) {
		return StateAbsent, 0, nil
	}
	if err != nil {
		return StateNoState, 0, fmt.Errorf("reading state of boot test %q: %w", pr.dom.Name, err)
	}
	return stateOf(libvirt.DomainState(st)), reason, nil
}

// Stop destroys the probe (a transient domain vanishes with it) and waits
// for its console stream to end. It may be called more than once.
func (pr *BootTest) Stop() error {
	var err error
	pr.once.Do(func() {
		if e := pr.p.c.DomainDestroy(pr.dom); e != nil && !isNotFound(e) && !hasCode(e, libvirt.ErrOperationInvalid) {
			err = fmt.Errorf("stopping boot test %q: %w", pr.dom.Name, e)
		}
		select {
		case <-pr.console:
		case <-time.After(10 * time.Second):
			// The stream ends with the domain; go-libvirt keeps the
			// goroutine if it does not, but the probe is gone.
		}
	})
	return err
}

// hostConn is what Host asks libvirt; *libvirt.Libvirt has it.
type hostConn interface {
	ConnectGetHostname() (string, error)
	ConnectGetLibVersion() (uint64, error)
	ConnectGetVersion() (uint64, error)
	ConnectGetCapabilities() (string, error)
}

var _ hostConn = (*libvirt.Libvirt)(nil)

// kvmConn is what HasKVM asks libvirt; *libvirt.Libvirt has it.
type kvmConn interface {
	ConnectGetDomainCapabilities(emulator, arch, machine, virttype libvirt.OptString, flags libvirt.ConnectGetDomainCapabilitiesFlags) (string, error)
}

var _ kvmConn = (*libvirt.Libvirt)(nil)

// HasKVM reports whether the host offers KVM domains at all (its domain
// capabilities for virttype kvm), with libvirt's reason when it does not.
// It says nothing of whether guests then boot: that is what a probe tells.
func (p *Provider) HasKVM(ctx context.Context) (bool, string, error) {
	kc, ok := p.c.(kvmConn)
	if !ok {
		return false, "", ErrNoBootTests
	}
	if err := ctx.Err(); err != nil {
		return false, "", fmt.Errorf("asking libvirt for KVM: %w", err)
	}
	_, err := kc.ConnectGetDomainCapabilities(nil, libvirt.OptString{"x86_64"}, nil, libvirt.OptString{"kvm"}, 0)
	var lerr libvirt.Error
	if errors.As(err, &lerr) {
		return false, lerr.Message, nil
	}
	if err != nil {
		return false, "", fmt.Errorf("asking libvirt for KVM: %w", err)
	}
	return true, "", nil
}

// HostInfo is what a libvirt host says about itself.
type HostInfo struct {
	Name     string   // the host's name
	Libvirt  string   // the daemon's libvirt version, "9.0.0"
	QEMU     string   // the hypervisor's version, "7.2.22"
	CPU      string   // vendor, model and microcode of the host CPU
	Security []string // security drivers: "apparmor", "selinux", "dac"
}

// Identity is what decides whether guests run under KVM there, as far as
// libvirt tells: results of boot tests are cached under it.
func (h HostInfo) Identity() string {
	return fmt.Sprintf("%s libvirt %s qemu %s cpu %s", h.Name, h.Libvirt, h.QEMU, h.CPU)
}

// Host asks the daemon for its name, versions, CPU and security drivers.
func (p *Provider) Host(ctx context.Context) (HostInfo, error) {
	hc, ok := p.c.(hostConn)
	if !ok {
		return HostInfo{}, ErrNoBootTests
	}
	if err := ctx.Err(); err != nil {
		return HostInfo{}, fmt.Errorf("asking the libvirt host: %w", err)
	}
	fail := func(err error) (HostInfo, error) { return HostInfo{}, fmt.Errorf("asking the libvirt host: %w", err) }
	name, err := hc.ConnectGetHostname()
	if err != nil {
		return fail(err)
	}
	lib, err := hc.ConnectGetLibVersion()
	if err != nil {
		return fail(err)
	}
	hv, err := hc.ConnectGetVersion()
	if err != nil {
		return fail(err)
	}
	doc, err := hc.ConnectGetCapabilities()
	if err != nil {
		return fail(err)
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(doc); err != nil {
		return fail(fmt.Errorf("parsing capabilities: %w", err))
	}
	info := HostInfo{Name: name, Libvirt: Version(lib), QEMU: Version(hv)}
	if c := caps.Host.CPU; c != nil {
		info.CPU = c.Vendor + " " + c.Model
		if c.Microcode != nil {
			info.CPU += fmt.Sprintf(" microcode %d", c.Microcode.Version)
		}
	}
	for _, m := range caps.Host.SecModel {
		info.Security = append(info.Security, m.Name)
	}
	return info, nil
}

// Version decodes libvirt's version numbers, major*1e6 + minor*1e3 + micro.
func Version(v uint64) string {
	return fmt.Sprintf("%d.%d.%d", v/1000000, v/1000%1000, v%1000)
}

// nodeConn is what Size asks libvirt; *libvirt.Libvirt has it.
type nodeConn interface {
	NodeGetInfo() (rModel [32]int8, rMemory uint64, rCpus int32, rMhz int32, rNodes int32, rSockets int32, rCores int32, rThreads int32, err error)
}

var _ nodeConn = (*libvirt.Libvirt)(nil)

// Size returns the host's logical CPUs and memory in MiB, as libvirt
// reports them: what bounds a lab on a remote host, whose /proc lab cannot
// read.
func (p *Provider) Size(ctx context.Context) (cpus, memoryMiB int, err error) {
	nc, ok := p.c.(nodeConn)
	if !ok {
		return 0, 0, ErrNoBootTests
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("asking the libvirt host its size: %w", err)
	}
	_, memKiB, n, _, _, _, _, _, err := nc.NodeGetInfo()
	if err != nil {
		return 0, 0, fmt.Errorf("asking the libvirt host its size: %w", err)
	}
	return int(n), int(memKiB / 1024), nil
}
