package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/accel"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// Sizes of the volumes create makes.
const (
	// DataVolumeBytes is the etcd data disk: etcd's default quota is 2 GiB.
	DataVolumeBytes = 4 << 30
	// kernelCmdline boots the image's root file system from the OS disk with
	// the console on the serial port the domain logs.
	kernelCmdline = "root=/dev/vda rw console=ttyS0,115200n8 net.ifnames=0 biosdevname=0"
)

// Waiter blocks until a created lab is usable: domains running, each node's
// readiness message on its console, SSH with the pinned host keys,
// cloud-init's seed applied without errors, etcd healthy. Tests without VMs
// substitute their own.
type Waiter interface {
	Wait(ctx context.Context, l *Lab) error
}

// CreateOptions are the inputs of Create. Plan, Image and Etcd come
// validated from the caller; nothing has been created when they fail.
type CreateOptions struct {
	Store Store
	// Host is where the lab goes: its libvirt, and how its guests are
	// reached.
	Host *Host
	Plan *spec.Plan
	// Accel is --accel: virt.AccelKVM, virt.AccelTCG, or auto, which
	// Create resolves (accel.Choose: kvm when a guest boots under it on
	// this host, a self-test cached under CacheDir, else tcg).
	Accel    string
	CacheDir string
	Image    *images.Image
	Etcd     *etcdbin.Binaries
	Waiter   Waiter
	Progress *progress.Printer
	Logger   *slog.Logger
	// HostPrefixes are the host's own networks (interfaces and routes) the
	// lab's subnet must not overlap; see Host.Prefixes.
	HostPrefixes []spec.NamedPrefix
}

// Create builds the lab or finishes an interrupted create of the same
// spec. The state is saved before each libvirt object is made, so whatever
// happens (an error, Ctrl-C), Destroy can remove what exists.
func Create(ctx context.Context, o CreateOptions) (*State, error) {
	// Libvirt and the accelerator before the store: a host that cannot
	// run the lab leaves no trace of it.
	prov, err := o.Host.Libvirt(ctx)
	if err != nil {
		return nil, err
	}
	o.Accel, err = accel.Choose(ctx, accel.Choice{Want: o.Accel, Provider: prov, Image: o.Image, CacheDir: o.CacheDir,
		Connect: o.Host.URI(), Remote: o.Host.Remote(), Progress: o.Progress})
	if err != nil {
		return nil, err
	}
	if err := o.Store.Init(); err != nil {
		return nil, err
	}
	unlock, err := o.Store.Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := o.begin(ctx, prov)
	if err != nil {
		return nil, err
	}
	c := &creator{CreateOptions: o, st: st, prov: prov}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{"preparing keys and seeds", c.seeds},
		{"creating network " + o.Plan.Network.Name, c.network},
		{"creating storage pools", c.pools},
		{"uploading the base image into pool " + o.Plan.Pool(spec.PoolSSD).Name, c.baseImage},
		{"creating volumes", c.volumes},
		{"starting domains", c.domains},
	}
	for _, s := range steps {
		end := o.Progress.Start("%s", s.name)
		err := s.run(ctx)
		end(err)
		if err != nil {
			return st, c.explain(err)
		}
	}
	if o.Waiter != nil {
		if err := o.Waiter.Wait(ctx, open(st, o.Store, o.Host)); err != nil {
			return st, c.explain(err)
		}
	}
	st.Phase = PhaseReady
	return st, o.Store.Save(st)
}

// begin loads or starts the state, refusing a lab that is already complete
// or an interrupted one of another spec, and checks the host's networks.
func (o CreateOptions) begin(ctx context.Context, prov *virt.Provider) (*State, error) {
	st, err := o.Store.Load()
	switch {
	case errors.Is(err, fs.ErrNotExist):
		now := time.Now().UTC()
		st = &State{Name: o.Plan.Spec.Name, Phase: PhaseCreating, Connect: o.Host.URI(), Plan: *o.Plan,
			Accel: o.Accel, Image: *o.Image, Etcd: *o.Etcd, Created: now}
	case err != nil:
		return nil, err
	case st.Schema != schema:
		return nil, fmt.Errorf("lab %q was made by an older lab (state schema %d): run 'lab destroy' first", st.Name, st.Schema)
	case st.Phase == PhaseReady:
		return nil, fmt.Errorf("lab %q already exists: see 'lab status', or remove it with 'lab destroy'", st.Name)
	case !reflect.DeepEqual(st.Plan, *o.Plan):
		return nil, fmt.Errorf("lab %q has an interrupted create with other settings: run 'lab destroy' first, or repeat the same 'lab create' command to finish it", st.Name)
	default:
		o.Progress.Printf("resuming the interrupted create of lab %q", st.Name)
		st.Accel, st.Image, st.Etcd = o.Accel, *o.Image, *o.Etcd
	}
	if err := o.checkSubnet(ctx, prov, st); err != nil {
		return nil, err
	}
	return st, o.Store.Save(st)
}

// checkSubnet refuses a subnet that a foreign libvirt network or a host
// interface or route already uses. The lab's own network is left out, so a
// resumed create does not clash with itself.
func (o CreateOptions) checkSubnet(ctx context.Context, prov *virt.Provider, st *State) error {
	nets, err := prov.Networks(ctx)
	if err != nil {
		return err
	}
	// The lab's own network is the one of its name with the UUID its
	// state records.
	r := st.Find(KindNetwork, o.Plan.Network.Name, "")
	ours := false
	var existing []spec.NamedPrefix
	for _, n := range nets {
		if n.Name == o.Plan.Network.Name && r != nil && r.UUID != "" && strings.EqualFold(n.UUID, r.UUID) {
			ours = true
			continue
		}
		for _, p := range n.Prefixes {
			existing = append(existing, spec.NamedPrefix{Kind: "libvirt network", Name: n.Name, Prefix: p})
		}
	}
	for _, p := range o.HostPrefixes {
		if ours && p.Name == o.Plan.Network.Bridge {
			continue
		}
		existing = append(existing, p)
	}
	return spec.CheckOverlap(o.Plan, existing)
}

type creator struct {
	CreateOptions
	st   *State
	prov *virt.Provider
}

// intend records r in the state before the call that makes it, unless it
// is recorded already, and returns the recorded resource (a pointer into
// the state, valid until the next intend appends).
func (c *creator) intend(r Resource) (*Resource, error) {
	if have := c.st.Find(r.Kind, r.Name, r.Pool); have != nil {
		return have, nil
	}
	c.st.Resources = append(c.st.Resources, r)
	if err := c.Store.Save(c.st); err != nil {
		return nil, err
	}
	return c.st.Find(r.Kind, r.Name, r.Pool), nil
}

// made marks r as made by the lab once the call that made it returned.
func (c *creator) made(r *Resource) error {
	if r.Made {
		return nil
	}
	r.Made = true
	return c.Store.Save(c.st)
}

// newVolume records the volume v before it is made, after checking that
// no file of that name exists in its pool: a volume the state does not
// record is never adopted, and a recorded one was absent when recorded.
func (c *creator) newVolume(ctx context.Context, v spec.Volume) (*Resource, error) {
	if r := c.st.Find(KindVolume, v.Name, v.Pool); r != nil {
		return r, nil
	}
	exists, err := c.prov.HasVolume(ctx, v.Pool, v.Name, c.st.Name)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, fmt.Errorf("creating volume %q in pool %q: a file of that name exists and lab %q did not make it: move it out of the pool's directory, or choose another --lab: %w",
			v.Name, v.Pool, c.st.Name, virt.ErrNotOwned)
	}
	return c.intend(Resource{Kind: KindVolume, Name: v.Name, Pool: v.Pool})
}

func (c *creator) explain(err error) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("create of lab %q interrupted: %w; run 'lab destroy' to remove what was made, or the same 'lab create' to finish", c.st.Name, err)
	}
	return fmt.Errorf("creating lab %q: %w\n(the state is kept: 'lab destroy' removes what was made; the same 'lab create' retries)", c.st.Name, err)
}

// EnsureKeys returns the lab's PKI, made on first use and reused after, so that
// render and create send the same bytes.
func EnsureKeys(store Store, plan *spec.Plan) (*pki.PKI, error) {
	req := pki.Request{Lab: plan.Spec.Name}
	for _, n := range plan.Nodes {
		req.Nodes = append(req.Nodes, pki.Node{Name: n.Name, IP: n.IP})
	}
	if err := store.Init(); err != nil {
		return nil, err
	}
	keys, _, err := pki.LoadOrGenerate(store.PKIDir(), req)
	return keys, err
}

func (c *creator) seeds(context.Context) error {
	keys, err := EnsureKeys(c.Store, c.Plan)
	if err != nil {
		return err
	}
	seeds, err := Render(RenderInputs{Plan: c.Plan, PKI: keys, Etcd: c.Etcd})
	if err != nil {
		return err
	}
	for _, s := range seeds {
		if err := writeISO(c.Store.SeedISO(s.Node.Name), s.Seed); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(c.Store.ConsoleLog("any")), 0o700); err != nil {
		return fmt.Errorf("creating the console log directory: %w", err)
	}
	// virtlogd, running as root, appends to the log files; made here
	// first, they stay the user's, so a non-root user (in the libvirt
	// group) can read their own lab's consoles.
	for _, n := range c.Plan.Nodes {
		path := consoleLog(c.st, c.Store, n.Name)
		if path == "" {
			continue
		}
		// O_NOFOLLOW: never append through a link planted in its place.
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return fmt.Errorf("creating the console log of %s: %w", n.Name, err)
		}
		f.Close()
	}
	return nil
}

func (c *creator) network(ctx context.Context) error {
	n := c.Plan.Network
	r, err := c.intend(Resource{Kind: KindNetwork, Name: n.Name, UUID: virt.NewUUID()})
	if err != nil {
		return err
	}
	if _, err := c.prov.EnsureNetwork(ctx, virt.NetworkSpec{
		Name: n.Name, Bridge: n.Bridge, Gateway: n.Gateway, Prefix: n.Subnet.Bits(), Mode: n.Mode, Lab: c.st.Name, UUID: r.UUID,
	}); err != nil {
		return err
	}
	return c.made(r)
}

func (c *creator) pools(ctx context.Context) error {
	for _, p := range c.Plan.Pools {
		r, err := c.intend(Resource{Kind: KindPool, Name: p.Name, UUID: virt.PoolUUID(c.st.Name, p.Name)})
		if err != nil {
			return err
		}
		res, err := c.prov.EnsurePoolResult(ctx, virt.PoolSpec{Name: p.Name, Path: p.Path, Lab: c.st.Name})
		if res.BuiltDir {
			// Recorded even when the start failed: the directory exists
			// now and is the lab's.
			r.Dir = p.Path
			if serr := c.Store.Save(c.st); serr != nil && err == nil {
				err = serr
			}
		}
		if err != nil {
			return err
		}
		if err := c.made(r); err != nil {
			return err
		}
	}
	return nil
}

// baseVolumes are the lab's copies of the image's files, in the ssd pool:
// the overlays' backing file and, for kernel boot, the kernel and initrd.
// Keeping them inside the pools means a remote host needs nothing from this
// machine's cache, and AppArmor and SELinux see only pool paths.
func (c *creator) baseVolumes() []baseVolume {
	ssd := c.Plan.Pool(spec.PoolSSD)
	vol := func(what, src string) baseVolume {
		name := c.st.Name + "-" + what
		return baseVolume{Volume: spec.Volume{Pool: ssd.Name, Name: name, Path: filepath.Join(ssd.Path, name)}, src: src}
	}
	out := []baseVolume{vol("base.qcow2", c.Image.Disk)}
	if c.Image.Boot == images.BootKernel {
		out = append(out, vol("vmlinuz", c.Image.Kernel), vol("initrd.img", c.Image.Initrd))
	}
	return out
}

type baseVolume struct {
	spec.Volume
	src string // the file in the image cache
}

// base returns the base volume of what ("base.qcow2", "vmlinuz", ...).
func (c *creator) base(what string) spec.Volume {
	for _, b := range c.baseVolumes() {
		if b.Name == c.st.Name+"-"+what {
			return b.Volume
		}
	}
	return spec.Volume{}
}

func (c *creator) baseImage(ctx context.Context) error {
	for _, b := range c.baseVolumes() {
		if err := c.upload(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// upload copies b's file into its volume, unless the state says that very
// file was uploaded completely before (a resumed create). A volume left by
// an interrupted upload holds part of the file, so it is made afresh.
func (c *creator) upload(ctx context.Context, b baseVolume) error {
	f, err := os.Open(b.src)
	if err != nil {
		return fmt.Errorf("opening the image file for %s: %w", b.Name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("opening the image file for %s: %w", b.Name, err)
	}
	source := fmt.Sprintf("%s %d %s", b.src, fi.Size(), fi.ModTime().UTC().Format(time.RFC3339Nano))
	if c.st.Uploads[b.Name] == source {
		return nil
	}
	r, err := c.newVolume(ctx, b.Volume)
	if err != nil {
		return err
	}
	// A recorded volume was absent when recorded: what exists now is the
	// part an interrupted upload left.
	if err := c.prov.DeleteVolume(ctx, b.Pool, b.Name, c.st.Name); err != nil {
		return err
	}
	s := virt.VolumeSpec{Name: b.Name, Lab: c.st.Name, Format: virt.FormatRaw, CapacityBytes: uint64(fi.Size())}
	if _, err := c.prov.CreateVolume(ctx, b.Pool, s); err != nil {
		return err
	}
	if err := c.made(r); err != nil {
		return err
	}
	if err := c.prov.UploadVolume(ctx, b.Pool, b.Name, c.st.Name, f, fi.Size()); err != nil {
		return err
	}
	if c.st.Uploads == nil {
		c.st.Uploads = map[string]string{}
	}
	c.st.Uploads[b.Name] = source
	return c.Store.Save(c.st)
}

func (c *creator) volumes(ctx context.Context) error {
	for _, n := range c.Plan.Nodes {
		osVol := virt.VolumeSpec{Name: n.OS.Name, Lab: c.st.Name, Format: virt.FormatQcow2,
			BackingPath: c.base("base.qcow2").Path, BackingFormat: virt.FormatQcow2}
		data := virt.VolumeSpec{Name: n.Data.Name, Lab: c.st.Name, Format: virt.FormatRaw, CapacityBytes: DataVolumeBytes}
		if err := c.volume(ctx, n.OS, osVol); err != nil {
			return err
		}
		if err := c.volume(ctx, n.Data, data); err != nil {
			return err
		}
		if err := c.seedVolume(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (c *creator) volume(ctx context.Context, v spec.Volume, s virt.VolumeSpec) error {
	r, err := c.newVolume(ctx, v)
	if err != nil {
		return err
	}
	s.Adopt = true // recorded, so what exists of that name is the lab's
	if _, err := c.prov.CreateVolume(ctx, v.Pool, s); err != nil {
		return err
	}
	return c.made(r)
}

func (c *creator) seedVolume(ctx context.Context, n spec.Node) error {
	f, err := os.Open(c.Store.SeedISO(n.Name))
	if err != nil {
		return fmt.Errorf("opening the seed of %s: %w", n.Name, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	s := virt.VolumeSpec{Name: n.Seed.Name, Lab: c.st.Name, Format: virt.FormatRaw, CapacityBytes: uint64(fi.Size())}
	if err := c.volume(ctx, n.Seed, s); err != nil {
		return err
	}
	return c.prov.UploadVolume(ctx, n.Seed.Pool, n.Seed.Name, c.st.Name, f, fi.Size())
}

func (c *creator) domains(ctx context.Context) error {
	for _, n := range c.Plan.Nodes {
		r, err := c.intend(Resource{Kind: KindDomain, Name: n.Domain, UUID: virt.NewUUID()})
		if err != nil {
			return err
		}
		s := c.domainSpec(n)
		s.UUID = r.UUID
		if err := c.prov.DefineDomain(ctx, s); err != nil {
			return err
		}
		if err := c.made(r); err != nil {
			return err
		}
	}
	// Started together: an etcd member waits for its peers, and TCG guests
	// boot in about a minute each way.
	for _, n := range c.Plan.Nodes {
		state, err := c.prov.DomainState(ctx, n.Domain)
		if err != nil {
			return err
		}
		if state == virt.StateRunning {
			continue
		}
		if err := c.prov.StartDomain(ctx, n.Domain); err != nil {
			return err
		}
	}
	return nil
}

func (c *creator) domainSpec(n spec.Node) virt.DomainSpec {
	s := virt.DomainSpec{
		Name: n.Domain, Lab: c.st.Name, Node: n.Name,
		VCPUs: uint(c.Plan.Spec.CPUs), MemoryMiB: uint(c.Plan.Spec.MemoryMiB), Accel: c.Accel,
		OSDisk: n.OS.Path, DataDisk: n.Data.Path, DataDiskFormat: virt.FormatRaw, SeedISO: n.Seed.Path,
		Network: c.Plan.Network.Name, MAC: n.MAC, ConsoleLog: consoleLog(c.st, c.Store, n.Name),
	}
	if c.Image.Boot == images.BootKernel {
		s.Boot = virt.Boot{Kernel: c.base("vmlinuz").Path, Initrd: c.base("initrd.img").Path, Cmdline: kernelCmdline}
	}
	return s
}

// consoleLog is where node's serial console is logged: a file in the lab's
// state directory, which only exists on this machine; on a remote host the
// console stays in libvirt (virsh console).
func consoleLog(st *State, store Store, node string) string {
	if tunnel.IsRemote(st.Connect) {
		return ""
	}
	return store.ConsoleLog(node)
}
