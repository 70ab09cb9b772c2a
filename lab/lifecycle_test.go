package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/lab/virt/virttest"
)

// fixture is a lab on the fake libvirt: every piece real except the daemon
// and the VMs (the waiter records that it was asked).
type fixture struct {
	fake   *virttest.Fake
	prov   *virt.Provider
	store  Store
	opts   CreateOptions
	waited int
}

func (f *fixture) Wait(context.Context, *Lab) error { f.waited++; return nil }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	s := spec.Defaults()
	s.SSDPath = filepath.Join(dir, "pools", "ssd")
	s.HDDPath = filepath.Join(dir, "pools", "hdd")
	s.NodePools = map[string]string{"k8smaster2": spec.PoolHDD}
	plan, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	img := &images.Image{Name: "debian-12", Boot: images.BootKernel,
		Disk: filepath.Join(dir, "img", "disk.qcow2"), Kernel: filepath.Join(dir, "img", "vmlinuz"), Initrd: filepath.Join(dir, "img", "initrd.img")}
	bins := fakeEtcd(t, dir)
	store, err := NewStore(filepath.Join(dir, "state"), s.Name)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{fake: virttest.New(), store: store}
	// The image lives only in this machine's cache: create uploads it into
	// the pool, as it must for a remote host.
	for path, data := range map[string]string{img.Disk: "qcow2 base image", img.Kernel: "kernel", img.Initrd: "initrd"} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.prov = virt.NewProvider(f.fake)
	f.opts = CreateOptions{Store: f.store, Host: &Host{uri: "test:///fake", prov: f.prov}, Plan: plan,
		Accel: virt.AccelTCG, Image: img, Etcd: bins, Waiter: f}
	return f
}

func fakeEtcd(t *testing.T, dir string) *etcdbin.Binaries {
	t.Helper()
	b := &etcdbin.Binaries{Version: "v3.6.16", Source: "test", SHA256: map[string]string{}}
	for _, name := range []string{etcdbin.EtcdFile, etcdbin.EtcdctlFile} {
		p := filepath.Join(dir, "etcd", name)
		data := []byte("#!/bin/sh\necho " + name + "\n")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		b.SHA256[name] = hex.EncodeToString(sum[:])
	}
	b.Etcd, b.Etcdctl = filepath.Join(dir, "etcd", "etcd"), filepath.Join(dir, "etcd", "etcdctl")
	return b
}

// labObjects are the objects a default three-node lab consists of.
func labObjects(f *fixture) []string {
	p := f.opts.Plan
	want := []string{"network:lab-kthw", "pool:kthw-ssd", "pool:kthw-hdd"}
	for _, base := range []string{"kthw-base.qcow2", "kthw-vmlinuz", "kthw-initrd.img"} {
		want = append(want, "file:"+filepath.Join(p.Pool(spec.PoolSSD).Path, base))
	}
	for _, n := range p.Nodes {
		want = append(want, "domain:"+n.Domain, "file:"+n.OS.Path, "file:"+n.Data.Path, "file:"+n.Seed.Path)
	}
	slices.Sort(want)
	return want
}

func TestCreateMakesTheLabAndDestroyRemovesIt(t *testing.T) {
	f := newFixture(t)
	st, err := Create(t.Context(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.fake.Objects(), labObjects(f); !slices.Equal(got, want) {
		t.Fatalf("objects after create:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st.Phase != PhaseReady || f.waited != 1 {
		t.Fatalf("phase %q, waited %d times", st.Phase, f.waited)
	}
	checkBaseVolumes(t, f)
	// k8smaster2's data disk is on the hdd pool, the rest on ssd.
	if n2 := st.Plan.Nodes[2]; n2.Data.Pool != "kthw-hdd" || !strings.HasPrefix(n2.Data.Path, f.opts.Plan.Spec.HDDPath) {
		t.Errorf("k8smaster2 data volume = %+v, want it in the hdd pool", n2.Data)
	}
	loaded, err := f.store.Load()
	if err != nil || loaded.Phase != PhaseReady || len(loaded.Resources) != len(labObjects(f)) {
		t.Fatalf("state on disk = %+v, %v", loaded, err)
	}
	if fi, err := os.Stat(f.store.Dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	if _, err := Create(t.Context(), f.opts); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second create: %v, want 'already exists'", err)
	}

	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Objects(); len(got) != 0 {
		t.Fatalf("objects left after destroy: %v", got)
	}
	if _, err := os.Stat(f.store.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state left after destroy: %v", err)
	}
	// Destroying a lab that is gone succeeds.
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatalf("second destroy: %v", err)
	}
}

func TestInterruptedCreateAfterEachStepThenDestroyLeavesNothing(t *testing.T) {
	total := func() int {
		f := newFixture(t)
		if _, err := Create(t.Context(), f.opts); err != nil {
			t.Fatal(err)
		}
		return f.fake.Changes()
	}()
	if total < 10 {
		t.Fatalf("create made only %d changes", total)
	}
	for n := 1; n <= total; n++ {
		f := newFixture(t)
		f.fake.FailAt(n, nil)
		if _, err := Create(t.Context(), f.opts); err == nil {
			t.Fatalf("change %d failing: create succeeded", n)
		}
		if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
			t.Fatalf("change %d failing: destroy: %v", n, err)
		}
		if got := f.fake.Objects(); len(got) != 0 {
			t.Fatalf("change %d failing: left after destroy: %v", n, got)
		}
	}
}

func TestInterruptedCreateResumes(t *testing.T) {
	f := newFixture(t)
	f.fake.FailOn("DomainCreate", 2, nil)
	if _, err := Create(t.Context(), f.opts); err == nil {
		t.Fatal("create with a failing domain start succeeded")
	}
	st, err := Create(t.Context(), f.opts)
	if err != nil {
		t.Fatalf("resumed create: %v", err)
	}
	if got, want := f.fake.Objects(), labObjects(f); !slices.Equal(got, want) || st.Phase != PhaseReady {
		t.Fatalf("after resume: phase %s, objects %v", st.Phase, got)
	}
	other := f.opts
	p := *f.opts.Plan
	p.Spec.CPUs = 1
	other.Plan = &p
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	f.fake.FailOn("DomainCreate", 5, nil)
	Create(t.Context(), f.opts)
	if _, err := Create(t.Context(), other); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Fatalf("resume with other settings: %v", err)
	}
}

func TestCreateCancelledThenDestroyed(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	f.opts.Waiter = waiterFunc(func(context.Context) error { cancel(); return context.Canceled })
	_, err := Create(ctx, f.opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "lab destroy") {
		t.Fatalf("err = %v, want cancellation that names 'lab destroy'", err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Objects(); len(got) != 0 {
		t.Fatalf("left after destroy: %v", got)
	}
}

type waiterFunc func(context.Context) error

func (w waiterFunc) Wait(ctx context.Context, _ *Lab) error { return w(ctx) }

const foreignNetwork = `<network><name>default</name><bridge name="virbr0"/>
<ip address="192.168.199.1" netmask="255.255.255.0"/></network>`

func TestForeignNetworkOnTheSubnetRefusedBeforeAnythingIsCreated(t *testing.T) {
	f := newFixture(t)
	f.fake.AddNetwork(foreignNetwork, true)
	_, err := Create(t.Context(), f.opts)
	if err == nil || !strings.Contains(err.Error(), `"default"`) || !strings.Contains(err.Error(), "--subnet") {
		t.Fatalf("err = %v, want the other network named and --subnet suggested", err)
	}
	if got := f.fake.Objects(); !slices.Equal(got, []string{"network:default"}) {
		t.Fatalf("objects = %v, want only the foreign network", got)
	}
	if _, err := os.Stat(f.store.StateFile()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state written for a refused create: %v", err)
	}
}

func TestHostRouteOnTheSubnetRefused(t *testing.T) {
	f := newFixture(t)
	f.opts.HostPrefixes = []spec.NamedPrefix{{Kind: "host interface", Name: "eth1", Prefix: netip.MustParsePrefix("192.168.199.0/24")}}
	_, err := Create(t.Context(), f.opts)
	if err == nil || !strings.Contains(err.Error(), "eth1") {
		t.Fatalf("err = %v, want the interface named", err)
	}
	if got := f.fake.Objects(); len(got) != 0 {
		t.Fatalf("objects = %v, want none", got)
	}
}

func TestDestroyNeverTouchesForeignObjects(t *testing.T) {
	f := newFixture(t)
	// A foreign domain with the lab's domain name and a foreign network on
	// another subnet, both present before create.
	f.fake.AddNetwork(strings.ReplaceAll(strings.ReplaceAll(foreignNetwork, "192.168.199.1", "192.168.122.1"), "default", "users-net"), true)
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.fake.Objects(); !slices.Equal(got, []string{"network:users-net"}) {
		t.Fatalf("objects after destroy = %v, want only the user's network", got)
	}
}

func TestRenderIsByteForByteWhatCreateSends(t *testing.T) {
	f := newFixture(t)
	keys, err := EnsureKeys(f.store, f.opts.Plan)
	if err != nil {
		t.Fatal(err)
	}
	in := RenderInputs{Plan: f.opts.Plan, PKI: keys, Etcd: f.opts.Etcd}
	seeds, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := WriteRender(out, in, seeds, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.opts.Plan.Nodes {
		rendered, err := os.ReadFile(filepath.Join(out, n.Name, "seed.iso"))
		if err != nil {
			t.Fatal(err)
		}
		sent, err := os.ReadFile(f.store.SeedISO(n.Name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rendered, sent) {
			t.Errorf("%s: rendered seed.iso differs from the one create uploads", n.Name)
		}
		user, err := os.ReadFile(filepath.Join(out, n.Name, "user-data"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"hostname: " + n.Name, "--name " + n.Name, "--heartbeat-interval=100", "--election-timeout=1000",
			"/etc/etcd/kubernetes-key.pem", "ed25519_private", "systemctl", "/var/lib/etcd"} {
			if !bytes.Contains(user, []byte(want)) {
				t.Errorf("%s user-data lacks %q", n.Name, want)
			}
		}
		for _, f := range []string{"seed.iso", "user-data"} {
			if fi, err := os.Stat(filepath.Join(out, n.Name, f)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s mode = %v, %v; want 0600 (it holds private keys)", n.Name, f, fi.Mode().Perm(), err)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(out, "kubernetes-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kubernetes-key.pem mode = %v, %v", fi.Mode().Perm(), err)
	}
}

// checkBaseVolumes checks that the image's files were uploaded into the ssd
// pool and that the domains and overlays use those copies, not the cache.
func checkBaseVolumes(t *testing.T, f *fixture) {
	t.Helper()
	ssd := f.opts.Plan.Pool(spec.PoolSSD).Path
	for name, want := range map[string]string{"kthw-base.qcow2": "qcow2 base image", "kthw-vmlinuz": "kernel", "kthw-initrd.img": "initrd"} {
		if _, data, ok := f.fake.Volume(filepath.Join(ssd, name)); !ok || string(data) != want {
			t.Errorf("volume %s holds %q (exists %v), want %q", name, data, ok, want)
		}
	}
	for _, n := range f.opts.Plan.Nodes {
		vol, _, ok := f.fake.Volume(n.OS.Path)
		if !ok || vol.BackingStore == nil || vol.BackingStore.Path != filepath.Join(ssd, "kthw-base.qcow2") {
			t.Errorf("%s's overlay backing store = %+v, want the pool's base volume", n.Name, vol.BackingStore)
		}
		def, _, ok := f.fake.Domain(n.Domain)
		if !ok || def.OS.Kernel != filepath.Join(ssd, "kthw-vmlinuz") || def.OS.Initrd != filepath.Join(ssd, "kthw-initrd.img") {
			t.Errorf("%s boots kernel %q initrd %q, want the pool's copies", n.Domain, def.OS.Kernel, def.OS.Initrd)
		}
	}
}

// A resumed create does not upload the base image again, but one that was
// interrupted during the upload starts it over.
func TestResumedCreateUploadsTheBaseImageOnce(t *testing.T) {
	f := newFixture(t)
	f.fake.FailOn("DomainCreate", 1, nil)
	if _, err := Create(t.Context(), f.opts); err == nil {
		t.Fatal("create with a failing domain start succeeded")
	}
	uploads := f.fake.Calls("StorageVolUpload")
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	// Only the three seeds again.
	if got := f.fake.Calls("StorageVolUpload") - uploads; got != len(f.opts.Plan.Nodes) {
		t.Errorf("resume made %d uploads, want %d (the seeds)", got, len(f.opts.Plan.Nodes))
	}

	g := newFixture(t)
	g.fake.FailOn("StorageVolUpload", 1, nil)
	if _, err := Create(t.Context(), g.opts); err == nil {
		t.Fatal("create with a failing upload succeeded")
	}
	if _, err := Create(t.Context(), g.opts); err != nil {
		t.Fatalf("resume after a failed upload: %v", err)
	}
	checkBaseVolumes(t, g)
}

// On a remote host the console is not logged to this machine's state
// directory, which the host cannot write.
func TestRemoteCreateLogsNoConsoleHere(t *testing.T) {
	f := newFixture(t)
	f.opts.Host.uri = "qemu+ssh://root@big.example/system"
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.opts.Plan.Nodes {
		def, _, _ := f.fake.Domain(n.Domain)
		for _, s := range def.Devices.Serials {
			if s.Log != nil {
				t.Errorf("%s logs its console to %q", n.Domain, s.Log.File)
			}
		}
	}
}

// TestDestroyRemovesOnlyPoolDirectoriesItMade: the daemon removes a pool
// directory that it built for the lab (the daemon may be root where lab is
// not, or on another host), and leaves one that existed before, with the
// user's file in it.
func TestDestroyRemovesOnlyPoolDirectoriesItMade(t *testing.T) {
	f := newFixture(t)
	s := f.opts.Plan.Spec
	s.SSDPath = spec.PoolPath(s.Name, spec.PoolSSD) // the default; hdd stays the user's
	plan, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	f.opts.Plan = plan
	ssd, hdd := plan.Pool(spec.PoolSSD).Path, plan.Pool(spec.PoolHDD).Path
	f.fake.AddFile(filepath.Join(hdd, "users-file"), []byte("mine"))
	if _, err := Create(t.Context(), f.opts); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{ssd, hdd} {
		if _, ok := f.fake.Dir(dir); !ok {
			t.Fatalf("after create, pool directory %s does not exist", dir)
		}
	}
	if err := Destroy(t.Context(), f.store, f.prov, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.fake.Dir(ssd); ok {
		t.Errorf("the default pool directory %s is left", ssd)
	}
	if _, ok := f.fake.Dir(hdd); !ok {
		t.Errorf("the user's pool directory %s was removed", hdd)
	}
	if _, data, ok := f.fake.Volume(filepath.Join(hdd, "users-file")); !ok || string(data) != "mine" {
		t.Errorf("the user's file in %s: exists %v, holds %q", hdd, ok, data)
	}
}
