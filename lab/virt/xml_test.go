package virt

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"

	"libvirt.org/go/libvirtxml"
)

func testNetworkSpec(mode string) NetworkSpec {
	return NetworkSpec{
		Name: "kthw-net", Bridge: "kthw-br0", Gateway: netip.MustParseAddr("192.168.199.1"),
		Prefix: 24, Mode: mode, Lab: "kthw",
	}
}

func testDomainSpec(accel string) DomainSpec {
	return DomainSpec{
		Name: "kthw-k8smaster0", Lab: "kthw", Node: "k8smaster0",
		VCPUs: 2, MemoryMiB: 1024, Accel: accel,
		Boot: Boot{
			Kernel:  "/var/cache/lab/images/debian-12/vmlinuz",
			Initrd:  "/var/cache/lab/images/debian-12/initrd.img",
			Cmdline: "root=/dev/vda console=ttyS0",
		},
		OSDisk:     "/var/lib/libvirt/images/kthw-k8smaster0-os.qcow2",
		DataDisk:   "/var/lib/libvirt/images/kthw-ssd/kthw-k8smaster0-data.raw",
		SeedISO:    "/var/lib/libvirt/images/kthw-k8smaster0-seed.iso",
		Network:    "kthw-net",
		MAC:        "52:54:00:C7:00:C8",
		ConsoleLog: "/var/log/lab/kthw/k8smaster0-console.log",
	}
}

func TestNetworkXMLGolden(t *testing.T) {
	for _, mode := range []string{ModeIsolated, ModeNAT} {
		t.Run(mode, func(t *testing.T) {
			doc, err := NetworkXML(testNetworkSpec(mode))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/network-"+mode+".golden.xml", []byte(doc+"\n"))

			var def libvirtxml.Network
			if err := def.Unmarshal(doc); err != nil {
				t.Fatal(err)
			}
			if (def.Forward != nil) != (mode == ModeNAT) {
				t.Errorf("mode %s: forward = %+v", mode, def.Forward)
			}
			if len(def.IPs) != 1 || def.IPs[0].DHCP != nil {
				t.Errorf("want one <ip> without DHCP, got %+v", def.IPs)
			}
			if m, ok := parseMarker(def.Metadata.XML); !ok || m.Lab != "kthw" {
				t.Errorf("marker = %+v, %v", m, ok)
			}
		})
	}
}

func TestPoolXMLGolden(t *testing.T) {
	doc, err := PoolXML(PoolSpec{Name: "kthw-ssd", Path: "/var/lib/libvirt/images/kthw-ssd", Lab: "kthw"})
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/pool.golden.xml", []byte(doc+"\n"))
}

func TestVolumeXMLGolden(t *testing.T) {
	tests := map[string]VolumeSpec{
		"volume-overlay": {Name: "kthw-k8smaster0-os.qcow2", Lab: "kthw", Format: FormatQcow2,
			CapacityBytes: 8 << 30, BackingPath: "/var/cache/lab/images/debian-12/disk.qcow2"},
		"volume-data-raw":   {Name: "kthw-k8smaster0-data.raw", Lab: "kthw", Format: FormatRaw, CapacityBytes: 2 << 30},
		"volume-data-qcow2": {Name: "kthw-k8smaster0-data.qcow2", Lab: "kthw", Format: FormatQcow2, CapacityBytes: 2 << 30},
		"volume-seed":       {Name: "kthw-k8smaster0-seed.iso", Lab: "kthw", Format: FormatRaw, CapacityBytes: 30 << 20},
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := VolumeXML(spec)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+name+".golden.xml", []byte(doc+"\n"))
		})
	}
}

func TestDomainXMLGolden(t *testing.T) {
	diskBoot := testDomainSpec(AccelTCG)
	diskBoot.Boot = Boot{}
	diskBoot.SeedISO = ""
	tests := map[string]DomainSpec{
		"domain-tcg-kernel": testDomainSpec(AccelTCG),
		"domain-kvm-kernel": testDomainSpec(AccelKVM),
		"domain-tcg-disk":   diskBoot,
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			doc, err := DomainXML(spec)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+name+".golden.xml", []byte(doc+"\n"))
		})
	}
}

// TestDomainXMLSemantics checks the properties the experiment depends on,
// so a golden update cannot silently drop them.
func TestDomainXMLSemantics(t *testing.T) {
	for _, accel := range []string{AccelTCG, AccelKVM} {
		doc, err := DomainXML(testDomainSpec(accel))
		if err != nil {
			t.Fatal(err)
		}
		var def libvirtxml.Domain
		if err := def.Unmarshal(doc); err != nil {
			t.Fatal(err)
		}
		wantType := map[string]string{AccelTCG: "qemu", AccelKVM: "kvm"}[accel]
		if def.Type != wantType {
			t.Errorf("%s: domain type %q, want %q", accel, def.Type, wantType)
		}
		if accel == AccelKVM && (def.CPU.Mode != "host-passthrough" || len(def.CPU.Features) != 1 ||
			def.CPU.Features[0] != (libvirtxml.DomainCPUFeature{Policy: "disable", Name: "arch-capabilities"})) {
			t.Errorf("kvm cpu = %+v", def.CPU)
		}
		if accel == AccelTCG && def.CPU.Mode == "host-passthrough" {
			t.Errorf("tcg cannot pass the host CPU through")
		}
		disks := map[string]libvirtxml.DomainDisk{}
		for _, d := range def.Devices.Disks {
			disks[d.Target.Dev] = d
		}
		if d := disks["vdb"]; d.Driver == nil || d.Driver.Cache != "none" || d.Driver.Type != FormatRaw || d.Target.Bus != "virtio" {
			t.Errorf("data disk = %+v", d.Driver)
		}
		if d := disks["vda"]; d.Driver == nil || d.Driver.Type != FormatQcow2 || d.Driver.Cache == "unsafe" {
			t.Errorf("os disk = %+v", d.Driver)
		}
		if d := disks["sda"]; d.Device != "cdrom" || d.Target.Bus != "scsi" || d.ReadOnly == nil {
			t.Errorf("seed = %+v", d)
		}
		if len(def.Devices.Controllers) != 1 || def.Devices.Controllers[0].Model != "virtio-scsi" {
			t.Errorf("controllers = %+v", def.Devices.Controllers)
		}
		if m, ok := parseMarker(def.Metadata.XML); !ok || m != (marker{Lab: "kthw", Node: "k8smaster0"}) {
			t.Errorf("marker = %+v, %v", m, ok)
		}
		if !strings.Contains(def.OS.Cmdline, "root=/dev/vda") {
			t.Errorf("cmdline = %q", def.OS.Cmdline)
		}
		if l := def.Devices.Serials[0].Log; l == nil || l.File != "/var/log/lab/kthw/k8smaster0-console.log" {
			t.Errorf("serial log = %+v", l)
		}
	}
}

func TestSpecValidation(t *testing.T) {
	bad := map[string]func() error{
		"network mode": func() error { s := testNetworkSpec("bridge"); _, err := NetworkXML(s); return err },
		"long bridge": func() error {
			s := testNetworkSpec(ModeIsolated)
			s.Bridge = "kthw-bridge-too-long"
			_, err := NetworkXML(s)
			return err
		},
		"gateway is network address": func() error {
			s := testNetworkSpec(ModeIsolated)
			s.Gateway = netip.MustParseAddr("192.168.199.0")
			_, err := NetworkXML(s)
			return err
		},
		"ipv6 gateway": func() error {
			s := testNetworkSpec(ModeIsolated)
			s.Gateway = netip.MustParseAddr("fd00::1")
			_, err := NetworkXML(s)
			return err
		},
		"pool without prefix": func() error { _, err := PoolXML(PoolSpec{Name: "ssd", Path: "/x", Lab: "kthw"}); return err },
		"pool relative path":  func() error { _, err := PoolXML(PoolSpec{Name: "kthw-ssd", Path: "x", Lab: "kthw"}); return err },
		"volume format": func() error {
			_, err := VolumeXML(VolumeSpec{Name: "kthw-a", Lab: "kthw", Format: "vmdk", CapacityBytes: 1})
			return err
		},
		"raw with backing": func() error {
			_, err := VolumeXML(VolumeSpec{Name: "kthw-a", Lab: "kthw", Format: FormatRaw, BackingPath: "/b"})
			return err
		},
		"volume without size": func() error {
			_, err := VolumeXML(VolumeSpec{Name: "kthw-a", Lab: "kthw", Format: FormatRaw})
			return err
		},
		"volume slash": func() error {
			_, err := VolumeXML(VolumeSpec{Name: "kthw-a/b", Lab: "kthw", Format: FormatRaw, CapacityBytes: 1})
			return err
		},
		"accel": func() error { s := testDomainSpec("hvf"); _, err := DomainXML(s); return err },
		"mac":   func() error { s := testDomainSpec(AccelTCG); s.MAC = "52:54:00"; _, err := DomainXML(s); return err },
		"initrd without kernel": func() error {
			s := testDomainSpec(AccelTCG)
			s.Boot.Kernel = ""
			_, err := DomainXML(s)
			return err
		},
		"relative disk": func() error {
			s := testDomainSpec(AccelTCG)
			s.DataDisk = "data.raw"
			_, err := DomainXML(s)
			return err
		},
		"no lab": func() error { s := testDomainSpec(AccelTCG); s.Lab = ""; _, err := DomainXML(s); return err },
	}
	for name, f := range bad {
		if err := f(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.ToLower(err.Error()[:1]) != err.Error()[:1] {
			t.Errorf("%s: error not lower-case: %v", name, err)
		}
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	inner := `<other:x xmlns:other="urn:other" name="kthw"/>` + metadataXML(`a"b<c`, "n")
	m, ok := parseMarker(inner)
	if !ok || m != (marker{Lab: `a"b<c`, Node: "n"}) {
		t.Errorf("got %+v, %v", m, ok)
	}
	if _, ok := parseMarker(`<other:lab xmlns:other="urn:other" name="kthw"/>`); ok {
		t.Error("a lab element in another namespace was taken as ours")
	}
	// The form libvirt prints back, with the declaration on the element.
	if m, ok := parseMarker("\n    <lab:lab xmlns:lab=\"" + Namespace + "\" name=\"kthw\"/>\n  "); !ok || m.Lab != "kthw" {
		t.Errorf("libvirt's form: %+v, %v", m, ok)
	}
}
