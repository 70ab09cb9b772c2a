//go:build integration

package virt

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/digitalocean/go-libvirt"
)

// TestIntegrationProbeLeavesOthersAlone defines (without starting: nothing
// boots) a domain that looks like another run's boot test, with the probe
// marker, and checks that StartBootTest of that name refuses and leaves it
// exactly as it was: a concurrent run's probe is never destroyed.
func TestIntegrationProbeLeavesOthersAlone(t *testing.T) {
	ctx := t.Context()
	p, err := Dial(ctx, "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration (start it: `virtlogd -d; libvirtd -d`): %v", err)
	}
	t.Cleanup(func() { p.Close() })
	name := fmt.Sprintf("lab-kvm-selftest-itest-%d", os.Getpid())
	doc := fmt.Sprintf(`<domain type="qemu"><name>%s</name><metadata>%s</metadata><memory unit="MiB">64</memory>`+
		`<os><type arch="x86_64">hvm</type></os></domain>`, name, metadataXML(BootTestLab, ""))
	dom, err := p.c.DomainDefineXMLFlags(doc, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.c.DomainUndefineFlags(dom, 0); err != nil {
			t.Errorf("removing the test's domain %s: %v", name, err)
		}
	})
	before, err := p.c.DomainGetXMLDesc(dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.StartBootTest(ctx, BootTestSpec{Name: name, Accel: AccelTCG, Disk: "/nonexistent.qcow2"}, nil)
	if !errors.Is(err, ErrBootTestExists) {
		t.Fatalf("StartBootTest over another run's probe = %v, want ErrBootTestExists", err)
	}
	after, err := p.c.DomainGetXMLDesc(dom, 0)
	if err != nil {
		t.Fatalf("the other run's probe is gone: %v", err)
	}
	if before != after {
		t.Errorf("the other run's probe changed:\n%s\n---\n%s", before, after)
	}
	if st, _, err := p.c.DomainGetState(dom, 0); err != nil || libvirt.DomainState(st) != libvirt.DomainShutoff {
		t.Errorf("the other run's probe is in state %d (%v), want shut off as it was", st, err)
	}
}

// TestIntegrationSize compares libvirt's view of this host's size with
// the kernel's: the numbers a remote lab is bounded by.
func TestIntegrationSize(t *testing.T) {
	p, err := Dial(t.Context(), "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration: %v", err)
	}
	defer p.Close()
	cpus, mem, err := p.Size(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if cpus != runtime.NumCPU() {
		t.Errorf("libvirt says %d CPUs, the kernel %d", cpus, runtime.NumCPU())
	}
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		t.Fatal(err)
	}
	var kb int
	for _, line := range strings.Split(string(meminfo), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ = strconv.Atoi(f[1])
		}
	}
	// libvirt may report less (a cgroup's limit), never more.
	t.Logf("libvirt: %d CPUs, %d MiB; /proc/meminfo: %d MiB", cpus, mem, kb/1024)
	if mem < 1 || mem > kb/1024 {
		t.Errorf("libvirt says %d MiB, /proc/meminfo %d MiB", mem, kb/1024)
	}
}

// TestIntegrationDialSocket is the doctor's way in: the first socket of
// Sockets that exists here answers through DialSocket, and describes the
// same host as Dial does.
func TestIntegrationDialSocket(t *testing.T) {
	socks, err := Sockets("qemu:///system", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(socks, func(s Socket) bool { _, err := os.Stat(s.Path); return err == nil })
	if i < 0 {
		t.Fatalf("no libvirt socket of %v exists: start libvirt (`sudo scripts/host-setup.sh`)", socks)
	}
	p, err := DialSocket(t.Context(), socks[i].Path, "qemu:///system")
	if err != nil {
		t.Fatalf("DialSocket(%s): %v", socks[i].Path, err)
	}
	defer p.Close()
	got, err := p.Host(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d, err := Dial(t.Context(), "qemu:///system")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want, err := d.Host(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (%s): %s", socks[i].Path, socks[i].Daemon, got.Identity())
	if got.Identity() != want.Identity() || got.Libvirt == "" {
		t.Errorf("DialSocket's host %q, Dial's %q", got.Identity(), want.Identity())
	}
}
