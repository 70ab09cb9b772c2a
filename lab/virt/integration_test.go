//go:build integration

package virt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kdomanski/iso9660"
)

// TestIntegrationLifecycle runs every provider operation against the real
// libvirtd behind qemu:///system: an isolated network on a free subnet, a
// pool under /var/lib/libvirt/images, a qcow2 overlay, a raw data disk, an
// uploaded seed ISO, a TCG domain that is started (disk boot into an empty
// disk: SeaBIOS idles, which is enough for qemu to accept every device) and
// two that are only defined (kernel boot under TCG and KVM, validated
// against libvirt's schema); then it deletes everything and checks with the
// API and the file system that nothing is left.
func TestIntegrationLifecycle(t *testing.T) {
	ctx := t.Context()
	p, err := Dial(ctx, "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration (start it: `sudo scripts/host-setup.sh`, or `virtlogd -d; libvirtd -d`): %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})

	lab := fmt.Sprintf("lt%d", os.Getpid()%100000)
	gw := freeSubnet(t, p)
	netSpec := NetworkSpec{Name: lab + "-net", Bridge: lab + "-br", Gateway: gw, Prefix: 24, Mode: ModeIsolated, Lab: lab}
	poolDir := filepath.Join("/var/lib/libvirt/images", "lab-test-"+lab)
	baseDir := poolDir + "-base"
	poolSpec := PoolSpec{Name: lab + "-ssd", Path: poolDir, Lab: lab}
	domains := []string{lab + "-node0", lab + "-node1", lab + "-node2"}
	t.Logf("lab %s: network %s (bridge %s, %v), pool %s on %s", lab, netSpec.Name, netSpec.Bridge, netSpec.Subnet(), poolSpec.Name, poolDir)

	destroy := func(ctx context.Context) error {
		var errs []error
		for _, d := range domains {
			errs = append(errs, p.DeleteDomain(ctx, d, lab))
		}
		for _, v := range []string{lab + "-os.qcow2", lab + "-data.raw", lab + "-seed.iso"} {
			errs = append(errs, p.DeleteVolume(ctx, poolSpec.Name, v, lab))
		}
		errs = append(errs, p.DeletePool(ctx, poolSpec.Name, lab), p.DeletePool(ctx, lab+"-hdd", lab), p.DeleteNetwork(ctx, netSpec.Name, lab))
		return errors.Join(errs...)
	}
	t.Cleanup(func() {
		// t.Context is cancelled before cleanups run.
		if err := destroy(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		os.RemoveAll(poolDir)
		os.RemoveAll(baseDir)
	})

	// Network.
	if created, err := p.EnsureNetwork(ctx, netSpec); err != nil || !created {
		t.Fatalf("ensure network: created=%v, %v", created, err)
	}
	if created, err := p.EnsureNetwork(ctx, netSpec); err != nil || created {
		t.Fatalf("ensure network again: created=%v, %v", created, err)
	}
	clash := netSpec
	clash.Name, clash.Bridge, clash.Lab = lab+"-net2", lab+"-br2", lab
	clash.Gateway = gw.Next().Next()
	if _, err := p.EnsureNetwork(ctx, clash); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), netSpec.Name) {
		t.Errorf("overlapping network: %v", err)
	}
	nets, err := p.Networks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range nets {
		if n.Name == netSpec.Name {
			found = n.Lab == lab && n.Active && n.Bridge == netSpec.Bridge && len(n.Prefixes) == 1 && n.Prefixes[0] == netip.PrefixFrom(gw, 24)
			if !found {
				t.Errorf("network as read back: %+v", n)
			}
		}
	}
	if !found {
		t.Fatalf("network %q not listed with its marker", netSpec.Name)
	}
	if _, err := net.InterfaceByName(netSpec.Bridge); err != nil {
		t.Errorf("bridge %s not on the host: %v", netSpec.Bridge, err)
	}

	// Pool and volumes.
	if created, err := p.EnsurePool(ctx, poolSpec); err != nil || !created {
		t.Fatalf("ensure pool: created=%v, %v", created, err)
	}
	if created, err := p.EnsurePool(ctx, poolSpec); err != nil || created {
		t.Fatalf("ensure pool again: created=%v, %v", created, err)
	}
	if fi, err := os.Stat(poolDir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o711 {
		t.Errorf("pool directory: %v, %v", fi.Mode(), err)
	}
	// A pool on a directory that exists (the user's own disk) keeps the
	// directory's mode and, when deleted, its files.
	hddDir := poolDir + "-hdd"
	hddSpec := PoolSpec{Name: lab + "-hdd", Path: hddDir, Lab: lab}
	if err := os.MkdirAll(hddDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(hddDir) })
	if err := os.WriteFile(filepath.Join(hddDir, "users-file"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if created, err := p.EnsurePool(ctx, hddSpec); err != nil || !created {
		t.Fatalf("ensure pool on an existing directory: created=%v, %v", created, err)
	}
	if fi, err := os.Stat(hddDir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("existing directory's mode changed: %v, %v", fi.Mode(), err)
	}
	if err := p.DeletePool(ctx, hddSpec.Name, lab); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(hddDir, "users-file")); err != nil || string(b) != "mine" {
		t.Errorf("the user's file after deleting the pool: %q, %v", b, err)
	}

	base := filepath.Join(baseDir, "base.qcow2")
	if err := os.MkdirAll(baseDir, 0o711); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", base, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	osPath, err := p.CreateVolume(ctx, poolSpec.Name, VolumeSpec{Name: lab + "-os.qcow2", Lab: lab, Format: FormatQcow2, BackingPath: base})
	if err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("qemu-img", "info", "-U", osPath).CombinedOutput()
	if err != nil || !strings.Contains(string(info), "backing file: "+base) || !strings.Contains(string(info), "virtual size: 64 MiB") {
		t.Errorf("overlay is not backed by the base image with its size: %v\n%s", err, info)
	}
	dataSpec := VolumeSpec{Name: lab + "-data.raw", Lab: lab, Format: FormatRaw, CapacityBytes: 256 << 20}
	dataPath, err := p.CreateVolume(ctx, poolSpec.Name, dataSpec)
	if err != nil {
		t.Fatal(err)
	}
	// An existing volume is refused unless the caller's state records it
	// (Adopt); then it is reused.
	if _, err := p.CreateVolume(ctx, poolSpec.Name, dataSpec); !errors.Is(err, ErrNotOwned) {
		t.Errorf("creating the data volume again without Adopt: %v, want ErrNotOwned", err)
	}
	dataSpec.Adopt = true
	if again, err := p.CreateVolume(ctx, poolSpec.Name, dataSpec); err != nil || again != dataPath {
		t.Errorf("creating the data volume again: %q, %v", again, err)
	}
	if fi, err := os.Stat(dataPath); err != nil || fi.Size() != 256<<20 {
		t.Errorf("data volume: %v", err)
	}

	iso := seedISO(t)
	seedSpec := VolumeSpec{Name: lab + "-seed.iso", Lab: lab, Format: FormatRaw, CapacityBytes: uint64(len(iso))}
	seedPath, err := p.CreateVolume(ctx, poolSpec.Name, seedSpec)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.UploadVolume(ctx, poolSpec.Name, seedSpec.Name, lab, bytes.NewReader(iso), int64(len(iso))); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(seedPath); err != nil || !bytes.Equal(got, iso) {
		t.Errorf("uploaded seed differs (%d bytes read, %d sent): %v", len(got), len(iso), err)
	}
	seedSpec.Adopt = true
	if _, err := p.CreateVolume(ctx, poolSpec.Name, seedSpec); err != nil {
		t.Errorf("re-creating the uploaded seed (probed as iso): %v", err)
	}

	// Domains.
	consoleLog := filepath.Join(poolDir, "console-"+lab+".log")
	run := DomainSpec{
		Name: domains[0], Lab: lab, Node: "node0", VCPUs: 1, MemoryMiB: 128, Accel: AccelTCG,
		OSDisk: osPath, DataDisk: dataPath, SeedISO: seedPath,
		Network: netSpec.Name, MAC: "52:54:00:fa:00:01", ConsoleLog: consoleLog,
	}
	if err := p.DefineDomain(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := p.DefineDomain(ctx, run); err != nil {
		t.Fatalf("redefining: %v", err)
	}
	kernel := run
	kernel.Name, kernel.Node, kernel.MAC = domains[1], "node1", "52:54:00:fa:00:02"
	kernel.Boot = Boot{Kernel: "/nonexistent/vmlinuz", Initrd: "/nonexistent/initrd.img", Cmdline: "root=/dev/vda console=ttyS0"}
	kvm := kernel
	kvm.Name, kvm.Node, kvm.MAC, kvm.Accel = domains[2], "node2", "52:54:00:fa:00:03", AccelKVM
	for _, s := range []DomainSpec{kernel, kvm} {
		if err := p.DefineDomain(ctx, s); err != nil {
			t.Errorf("defining %s: %v", s.Name, err)
		}
	}
	if err := p.StartDomain(ctx, run.Name); err != nil {
		t.Fatal(err)
	}
	if st, err := p.DomainState(ctx, run.Name); err != nil || st != StateRunning {
		t.Fatalf("state %q, %v", st, err)
	}
	live, err := p.DomainXMLDesc(ctx, run.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`type='qemu'`, `cache='none'`, `model='virtio-scsi'`, Namespace, `<log file='` + consoleLog} {
		if !strings.Contains(live, want) {
			t.Errorf("live XML lacks %s", want)
		}
	}
	waitFor(t, 10*time.Second, "console log "+consoleLog, func() bool { _, err := os.Stat(consoleLog); return err == nil })
	owned, err := p.OwnedDomains(ctx, lab)
	t.Logf("owned domains while running: %+v", owned)
	if err != nil || len(owned) != 3 || owned[0].Node != "node0" || owned[0].State != StateRunning || owned[1].State != StateShutOff {
		t.Errorf("OwnedDomains = %+v, %v", owned, err)
	}

	// Destroy, twice, and check nothing is left.
	for i := range 2 {
		if err := destroy(ctx); err != nil {
			t.Fatalf("destroy %d: %v", i+1, err)
		}
	}
	for _, d := range domains {
		if st, err := p.DomainState(ctx, d); err != nil || st != StateAbsent {
			t.Errorf("domain %s after destroy: %q, %v", d, st, err)
		}
	}
	if owned, err := p.OwnedDomains(ctx, lab); err != nil || len(owned) != 0 {
		t.Errorf("OwnedDomains after destroy = %+v, %v", owned, err)
	}
	nets, err = p.Networks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if n.Name == netSpec.Name || n.Lab == lab {
			t.Errorf("network left: %+v", n)
		}
	}
	pools, err := p.Pools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range pools {
		if pl.Name == poolSpec.Name || pl.Path == poolDir {
			t.Errorf("pool left: %+v", pl)
		}
	}
	for _, f := range []string{osPath, dataPath, seedPath} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("volume file %s left: %v", f, err)
		}
	}
	if _, err := net.InterfaceByName(netSpec.Bridge); err == nil {
		t.Errorf("bridge %s left on the host", netSpec.Bridge)
	}
}

// TestIntegrationForeignNetworkUntouched pre-creates a network the lab does
// not own and checks that ensure refuses it and delete leaves it.
func TestIntegrationForeignNetworkUntouched(t *testing.T) {
	ctx := t.Context()
	p, err := Dial(ctx, "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration (start it: `sudo scripts/host-setup.sh`, or `virtlogd -d; libvirtd -d`): %v", err)
	}
	t.Cleanup(func() { p.Close() }) // registered first, so it runs last
	lab := fmt.Sprintf("lf%d", os.Getpid()%100000)
	gw := freeSubnet(t, p)
	name := lab + "-net"
	doc := fmt.Sprintf(`<network><name>%s</name><bridge name="%s-br"/><ip address="%s" prefix="24"/></network>`, name, lab, gw)
	n, err := p.c.NetworkDefineXML(doc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.c.NetworkUndefine(n); err != nil {
			t.Errorf("removing the test's foreign network %s: %v", name, err)
		}
	})

	spec := NetworkSpec{Name: name, Bridge: lab + "-br", Gateway: gw, Prefix: 24, Mode: ModeIsolated, Lab: lab}
	if _, err := p.EnsureNetwork(ctx, spec); !errors.Is(err, ErrNotOwned) {
		t.Errorf("ensure over a foreign network: %v", err)
	}
	if err := p.DeleteNetwork(ctx, name, lab); !errors.Is(err, ErrNotOwned) {
		t.Errorf("delete of a foreign network: %v", err)
	}
	if _, err := p.c.NetworkLookupByName(name); err != nil {
		t.Errorf("foreign network gone: %v", err)
	}
	if active, err := p.c.NetworkIsActive(n); err != nil || active != 0 {
		t.Errorf("foreign network started: %d, %v", active, err)
	}
}

// freeSubnet returns the gateway (.1) of a /24 that no libvirt network and
// no host interface uses.
func freeSubnet(t *testing.T, p *Provider) netip.Addr {
	t.Helper()
	nets, err := p.Networks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var used []netip.Prefix
	for _, n := range nets {
		used = append(used, n.Prefixes...)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if pfx, err := netip.ParsePrefix(a.String()); err == nil {
			used = append(used, pfx)
		}
	}
	for third := 250; third > 200; third-- {
		cand := netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(third), 0}), 24)
		free := true
		for _, u := range used {
			free = free && !u.Overlaps(cand)
		}
		if free {
			return cand.Addr().Next()
		}
	}
	t.Fatal("no free /24 in 192.168.201-250.0")
	return netip.Addr{}
}

func seedISO(t *testing.T) []byte {
	t.Helper()
	w, err := iso9660.NewWriter()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Cleanup()
	if err := w.AddFile(strings.NewReader("instance-id: test\n"), "meta-data"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := w.WriteTo(&buf, "cidata"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Errorf("waiting for %s: not after %v", what, d)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
