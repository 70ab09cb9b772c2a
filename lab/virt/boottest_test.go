package virt

import (
	"strings"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"

	"libvirt.org/go/libvirtxml"
)

func TestProbeXMLGolden(t *testing.T) {
	kernel := Boot{Kernel: "/cache/vmlinuz", Initrd: "/cache/initrd.img", Cmdline: "root=/dev/vda ro console=ttyS0,115200n8 panic=-1"}
	for name, s := range map[string]BootTestSpec{
		"probe-kvm-plain-kernel": {Name: "lab-kvm-selftest", Accel: AccelKVM, Boot: kernel, Disk: "/cache/disk.qcow2", PlainPassthrough: true},
		"probe-kvm-msr-disk":     {Name: "lab-kvm-selftest", Accel: AccelKVM, Disk: "/cache/disk.qcow2", MemoryMiB: 512},
	} {
		t.Run(name, func(t *testing.T) {
			doc, err := BootTestXML(s)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+name+".golden.xml", []byte(doc+"\n"))
		})
	}
}

// TestProbeXMLSemantics pins what makes a probe harmless: a read-only
// disk, no network, destroyed on reboot or crash, and the ownership marker
// that lets a later run replace one left behind.
func TestBootTestXMLSemantics(t *testing.T) {
	doc, err := BootTestXML(BootTestSpec{Name: "lab-kvm-selftest", Accel: AccelKVM, Disk: "/cache/disk.qcow2"})
	if err != nil {
		t.Fatal(err)
	}
	var d libvirtxml.Domain
	if err := d.Unmarshal(doc); err != nil {
		t.Fatal(err)
	}
	if d.Type != "kvm" || len(d.Devices.Interfaces) != 0 || len(d.Devices.Disks) != 1 || d.Devices.Disks[0].ReadOnly == nil {
		t.Errorf("probe: type %s, %d interfaces, disks %+v; want kvm, no network, one read-only disk", d.Type, len(d.Devices.Interfaces), d.Devices.Disks)
	}
	if d.OnReboot != "destroy" || d.OnCrash != "destroy" {
		t.Errorf("on_reboot %q, on_crash %q; want destroy", d.OnReboot, d.OnCrash)
	}
	if m, ok := parseMarker(d.Metadata.XML); !ok || m.Lab != BootTestLab {
		t.Errorf("marker %+v, %v; want lab %q", m, ok, BootTestLab)
	}
	if f := d.CPU.Features; len(f) != 1 || f[0].Name != "arch-capabilities" || f[0].Policy != "disable" {
		t.Errorf("without PlainPassthrough the CPU features are %+v, want arch-capabilities disabled", f)
	}
	for _, bad := range []BootTestSpec{
		{Name: "bad/name", Accel: AccelKVM, Disk: "/d"},
		{Name: "lab-kvm-selftest", Accel: AccelKVM},
	} {
		if _, err := BootTestXML(bad); err == nil {
			t.Errorf("BootTestXML(%+v) succeeded", bad)
		} else if !strings.Contains(err.Error(), "boot test") {
			t.Errorf("error %q does not say it is about the boot test", err)
		}
	}
}

func TestLibvirtVersion(t *testing.T) {
	for v, want := range map[uint64]string{9000000: "9.0.0", 7002022: "7.2.22", 10010003: "10.10.3"} {
		if got := Version(v); got != want {
			t.Errorf("Version(%d) = %q, want %q", v, got, want)
		}
	}
}
