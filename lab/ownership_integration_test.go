//go:build integration

package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// realFixture is a one-node lab on the real libvirtd behind qemu:///system;
// no domain is ever defined (create is refused before), so nothing boots.
func realFixture(t *testing.T, name string) (CreateOptions, *virt.Provider) {
	t.Helper()
	p, err := virt.Dial(t.Context(), "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration (start it: `sudo scripts/host-setup.sh`, or `virtlogd -d; libvirtd -d`): %v", err)
	}
	t.Cleanup(func() { p.Close() })
	dir := t.TempDir()
	s := spec.Defaults()
	s.Name = name
	s.Nodes = 1
	s.Subnet = netip.MustParsePrefix("192.168.190.0/24")
	s.SSDPath = spec.PoolPath(name, spec.PoolSSD)
	s.HDDPath = spec.PoolPath(name, spec.PoolHDD)
	plan, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	img := &images.Image{Name: "debian-12", Boot: images.BootKernel,
		Disk: filepath.Join(dir, "img", "disk.qcow2"), Kernel: filepath.Join(dir, "img", "vmlinuz"), Initrd: filepath.Join(dir, "img", "initrd.img")}
	for _, f := range []string{img.Kernel, img.Initrd} {
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("never booted"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A real (empty) qcow2: the overlays need a backing file qemu-img reads.
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", img.Disk, "64M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	store, err := NewStore(filepath.Join(dir, "state"), name)
	if err != nil {
		t.Fatal(err)
	}
	return CreateOptions{Store: store, Host: &Host{uri: "qemu:///system", prov: p}, Plan: plan, Accel: virt.AccelTCG,
		Image: img, Etcd: fakeEtcd(t, dir), Progress: progress.Discard}, p
}

func virsh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("virsh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dirSnapshot is every entry under dir with its mode and content hash.
func dirSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", path, fi.Mode())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// A foreign pool NAME-ssd at a directory of the user's is refused by create
// and left byte for byte intact, object and directory, by create and
// destroy; the lab's own network made before the refusal goes.
func TestIntegrationForeignPoolIsNeverAdopted(t *testing.T) {
	name := fmt.Sprintf("ownp%d", os.Getpid()%100000)
	o, p := realFixture(t, name)
	pool := name + "-ssd"
	userDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(userDir, name+"-important.qcow2"), []byte("the user's disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(userDir, "notes.txt"), []byte("notes"), 0o600); err != nil {
		t.Fatal(err)
	}
	xml := filepath.Join(t.TempDir(), "pool.xml")
	if err := os.WriteFile(xml, []byte("<pool type='dir'><name>"+pool+"</name><target><path>"+userDir+"</path></target></pool>"), 0o644); err != nil {
		t.Fatal(err)
	}
	virsh(t, "pool-define", xml)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", "qemu:///system", "pool-destroy", pool).Run()
		exec.Command("virsh", "-c", "qemu:///system", "pool-undefine", pool).Run()
	})
	virsh(t, "pool-start", pool)
	before := virsh(t, "pool-dumpxml", pool) + virsh(t, "pool-info", pool) + dirSnapshot(t, userDir)

	_, err := Create(t.Context(), o)
	t.Logf("create: %v", err)
	if !errors.Is(err, virt.ErrNotOwned) || !strings.Contains(err.Error(), `"`+pool+`"`) || !strings.Contains(err.Error(), "virsh pool-undefine "+pool) {
		t.Fatalf("create: %v, want a refusal naming the pool and how to remove it", err)
	}
	if after := virsh(t, "pool-dumpxml", pool) + virsh(t, "pool-info", pool) + dirSnapshot(t, userDir); after != before {
		t.Fatalf("create changed the foreign pool:\n%s\nwas:\n%s", after, before)
	}
	if err := Destroy(t.Context(), o.Store, p, progress.Discard); err != nil {
		t.Fatal(err)
	}
	if after := virsh(t, "pool-dumpxml", pool) + virsh(t, "pool-info", pool) + dirSnapshot(t, userDir); after != before {
		t.Fatalf("destroy changed the foreign pool:\n%s\nwas:\n%s", after, before)
	}
	if left, err := p.LabObjects(t.Context(), name, false); err != nil || len(left) != 0 {
		t.Fatalf("the lab's objects after destroy: %+v, %v", left, err)
	}
	if _, err := os.Stat(o.Store.Dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("state left: %v", err)
	}
}

// A network with the lab's network name and no lab marker is refused by
// create and left as it was by create and destroy.
func TestIntegrationForeignNetworkIsNeverAdopted(t *testing.T) {
	name := fmt.Sprintf("ownn%d", os.Getpid()%100000)
	o, p := realFixture(t, name)
	net := o.Plan.Network.Name
	xml := filepath.Join(t.TempDir(), "net.xml")
	if err := os.WriteFile(xml, []byte("<network><name>"+net+"</name><bridge name='ownfor"+fmt.Sprint(os.Getpid()%1000)+"'/><ip address='192.168.191.1' prefix='24'/></network>"), 0o644); err != nil {
		t.Fatal(err)
	}
	virsh(t, "net-define", xml)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", "qemu:///system", "net-destroy", net).Run()
		exec.Command("virsh", "-c", "qemu:///system", "net-undefine", net).Run()
	})
	virsh(t, "net-start", net)
	before := virsh(t, "net-dumpxml", net) + virsh(t, "net-info", net)

	_, err := Create(t.Context(), o)
	t.Logf("create: %v", err)
	if !errors.Is(err, virt.ErrNotOwned) || !strings.Contains(err.Error(), `"`+net+`"`) || !strings.Contains(err.Error(), "virsh net-undefine "+net) {
		t.Fatalf("create: %v, want a refusal naming the network and how to remove it", err)
	}
	if after := virsh(t, "net-dumpxml", net) + virsh(t, "net-info", net); after != before {
		t.Fatalf("create changed the foreign network:\n%s\nwas:\n%s", after, before)
	}
	if err := Destroy(t.Context(), o.Store, p, progress.Discard); err != nil {
		t.Fatal(err)
	}
	if after := virsh(t, "net-dumpxml", net) + virsh(t, "net-info", net); after != before {
		t.Fatalf("destroy changed the foreign network:\n%s\nwas:\n%s", after, before)
	}
	if left, err := p.LabObjects(t.Context(), name, false); err != nil || len(left) != 0 {
		t.Fatalf("the lab's objects after destroy: %+v, %v", left, err)
	}
}

// cancelAt is a progress writer that cancels when a line starts with
// prefix, so a create stops before it boots anything.
type cancelAt struct {
	prefix string
	cancel func()
	log    strings.Builder
}

func (c *cancelAt) Write(b []byte) (int, error) {
	c.log.Write(b)
	if strings.HasPrefix(string(b), c.prefix) {
		c.cancel()
	}
	return len(b), nil
}

// The orphan sweep on the real libvirtd without booting anything: a create
// stopped as it reaches the domains, its domain defined (not started) as
// create defines it, then its state dir deleted. lab.List shows the orphan
// with every object; Destroy from the markers alone leaves no domain,
// network, pool, volume, pool directory or state.
func TestIntegrationOrphanSweepWithoutBooting(t *testing.T) {
	name := fmt.Sprintf("owno%d", os.Getpid()%100000)
	o, p := realFixture(t, name)
	ctx, cancel := context.WithCancel(t.Context())
	w := &cancelAt{prefix: "• starting domains", cancel: cancel}
	o.Progress = progress.New(w, false)
	t.Cleanup(func() {
		if err := Destroy(context.Background(), o.Store, p, progress.Discard); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
	})
	if _, err := Create(ctx, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("create stopped at the domains: %v\n%s", err, w.log.String())
	}
	st, err := o.Store.Load()
	if err != nil {
		t.Fatal(err)
	}
	c := &creator{CreateOptions: o, st: st}
	for _, n := range o.Plan.Nodes {
		s := c.domainSpec(n)
		s.UUID = virt.NewUUID()
		if err := p.DefineDomain(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	stateDir := filepath.Dir(o.Store.Dir)
	if err := os.RemoveAll(o.Store.Dir); err != nil {
		t.Fatal(err)
	}
	labs, err := List(t.Context(), stateDir, p)
	if err != nil {
		t.Fatal(err)
	}
	var l *LabSummary
	for i := range labs {
		if labs[i].Name == name {
			l = &labs[i]
		}
	}
	t.Logf("lab list: %+v", l)
	if l == nil || !l.Orphan || l.State || len(l.Domains) != 1 || len(l.Networks) != 1 || len(l.Pools) != 2 || len(l.Volumes) != 6 {
		t.Fatalf("List = %+v, want an orphan with 1 domain, 1 network, 2 pools, 6 volumes", l)
	}
	var log strings.Builder
	if err := Destroy(t.Context(), o.Store, p, progress.New(&log, false)); err != nil {
		t.Fatal(err)
	}
	t.Logf("destroy:\n%s", log.String())
	if !strings.Contains(log.String(), "orphans") {
		t.Errorf("destroy did not name the orphans")
	}
	if left, err := p.LabObjects(t.Context(), name, false); err != nil || len(left) != 0 {
		t.Fatalf("the lab's objects after destroy: %+v, %v", left, err)
	}
	for _, pl := range o.Plan.Pools {
		if _, err := os.Stat(pl.Path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("pool directory %s left: %v", pl.Path, err)
		}
	}
	for _, cmd := range [][]string{{"list", "--all", "--name"}, {"net-list", "--all", "--name"}, {"pool-list", "--all", "--name"}} {
		if out := virsh(t, cmd...); strings.Contains(out, name) {
			t.Errorf("virsh %s still shows %s:\n%s", cmd[0], name, out)
		}
	}
}
