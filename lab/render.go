package lab

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/kthw-lab/lab/cloudinit"
	"github.com/kthw-lab/lab/images/etcdbin"
	"github.com/kthw-lab/lab/lab/atomicfile"
	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/spec"
)

// User is the login the lab's SSH key opens on every node.
const User = "lab"

// RenderInputs are everything a node's seed is made from. The same inputs give
// the same bytes, which is how `lab render` shows exactly what create sends.
type RenderInputs struct {
	Plan *spec.Plan
	PKI  *pki.PKI
	Etcd *etcdbin.Binaries
}

// NodeSeed is what one node receives.
type NodeSeed struct {
	Node spec.Node
	Seed cloudinit.Seed
	// Unit is the etcd systemd unit, also inside the user-data.
	Unit []byte
}

// Render builds every node's seed.
func Render(in RenderInputs) ([]NodeSeed, error) {
	if in.Etcd == nil || in.Etcd.Etcd == "" {
		return nil, fmt.Errorf("rendering seeds: no etcd binary: run 'lab etcd build' or pass --etcd-binary PATH")
	}
	seeds := make([]NodeSeed, 0, len(in.Plan.Nodes))
	for _, n := range in.Plan.Nodes {
		s, err := renderNode(in, n)
		if err != nil {
			return nil, fmt.Errorf("rendering the seed of %s: %w", n.Name, err)
		}
		seeds = append(seeds, s)
	}
	return seeds, nil
}

func renderNode(in RenderInputs, n spec.Node) (NodeSeed, error) {
	p := in.Plan
	unit, err := UnitFor(p, n, p.Etcd.HeartbeatInterval, p.Etcd.ElectionTimeout)
	if err != nil {
		return NodeSeed{}, err
	}
	meta, err := cloudinit.MetaData{InstanceID: instanceID(in, n), LocalHostname: n.Name}.Marshal()
	if err != nil {
		return NodeSeed{}, err
	}
	eth := cloudinit.Ethernet{MACAddress: n.MAC, Addresses: []netip.Prefix{netip.PrefixFrom(n.IP, p.Network.Subnet.Bits())}}
	if p.Network.Mode == spec.NetworkNAT {
		eth.Gateway4 = p.Network.Gateway
	}
	network, err := cloudinit.NetworkConfig{Ethernets: map[string]cloudinit.Ethernet{"eth0": eth}}.Marshal()
	if err != nil {
		return NodeSeed{}, err
	}
	user, extra, err := userData(in, n, unit)
	if err != nil {
		return NodeSeed{}, err
	}
	userBytes, err := user.Marshal()
	if err != nil {
		return NodeSeed{}, err
	}
	return NodeSeed{
		Node: n,
		Seed: cloudinit.Seed{MetaData: meta, UserData: userBytes, NetworkConfig: network, ExtraFiles: extra},
		Unit: unit,
	}, nil
}

// UnitFor renders node n's etcd.service with the given raft timeouts; create
// uses the plan's, the slow-disk scenario its arms'.
func UnitFor(p *spec.Plan, n spec.Node, heartbeat, election time.Duration) ([]byte, error) {
	return etcd.Unit(etcd.UnitOptions{
		Name: n.Name, IP: n.IP,
		InitialCluster: p.Etcd.InitialCluster, ClusterToken: p.Etcd.Token,
		HeartbeatInterval: heartbeat, ElectionTimeout: election,
	})
}

// instanceID changes whenever the lab's PKI does, so a recreated lab's
// nodes run cloud-init's per-instance modules again.
func instanceID(in RenderInputs, n spec.Node) string {
	sum := sha256.Sum256(in.PKI.CACertPEM)
	return n.Domain + "-" + hex.EncodeToString(sum[:4])
}

func userData(in RenderInputs, n spec.Node, unit []byte) (cloudinit.CloudConfig, map[string]string, error) {
	host, ok := in.PKI.HostKeys[n.Name]
	if !ok {
		return cloudinit.CloudConfig{}, nil, fmt.Errorf("the lab's PKI has no SSH host key for %s", n.Name)
	}
	installs := []cloudinit.Install{{Name: "etcd", SHA256: in.Etcd.SHA256[etcdbin.EtcdFile], Dest: guest.EtcdBinary, Mode: 0o755}}
	extra := map[string]string{"etcd": in.Etcd.Etcd}
	if in.Etcd.Etcdctl != "" {
		installs = append(installs, cloudinit.Install{Name: "etcdctl", SHA256: in.Etcd.SHA256[etcdbin.EtcdctlFile], Dest: guest.EtcdctlBinary, Mode: 0o755})
		extra["etcdctl"] = in.Etcd.Etcdctl
	}
	install, err := cloudinit.InstallCommands(guest.SeedMount, installs...)
	if err != nil {
		return cloudinit.CloudConfig{}, nil, err
	}
	boot, fs, mount, err := guest.DataStorage()
	if err != nil {
		return cloudinit.CloudConfig{}, nil, err
	}
	yes := true
	cfg := cloudinit.CloudConfig{
		Hostname:       n.Name,
		ManageEtcHosts: true,
		Users: []cloudinit.User{{
			Name:              User,
			Sudo:              "ALL=(ALL) NOPASSWD:ALL",
			Shell:             "/bin/bash",
			Groups:            []string{"adm", "systemd-journal"},
			SSHAuthorizedKeys: []string{string(trimNewline(in.PKI.User.AuthorizedKey))},
			LockPasswd:        &yes,
		}},
		DisableRoot:   &yes,
		SSHDeleteKeys: &yes,
		SSHKeys: &cloudinit.SSHHostKeys{
			ED25519Private: string(host.PrivatePEM),
			ED25519Public:  string(trimNewline(host.AuthorizedKey)),
		},
		// The data disk sits under a device-mapper delay device (no delay
		// until a disk profile says otherwise) so the slow-disk profile can
		// change live.
		BootCmd:    []cloudinit.Command{boot},
		FSSetup:    []cloudinit.Filesystem{fs},
		WriteFiles: append(guest.CertFiles(in.PKI.CACertPEM, in.PKI.CertPEM, in.PKI.KeyPEM), guest.UnitFile(unit)),
		RunCmd: slices.Concat(mount,
			[]cloudinit.Command{cloudinit.Exec("chmod", "0700", guest.DataDir)},
			install,
			// --no-reload: systemd (246 and later) finds a unit file that
			// is new since its last load when it is asked to start it, so
			// the daemon-reload enable would do (seconds under emulation)
			// is not needed. --no-block: every member must start before
			// any can finish starting (Type=notify waits for a quorum).
			[]cloudinit.Command{cloudinit.Exec("systemctl", "enable", "--now", "--no-block", "--no-reload", "etcd")},
		),
		// The image runs every module in cloud-init's init stage, this one
		// last: create waits for it on the console (see NodeWaiter).
		FinalMessage: cloudinit.ReadyMessage,
	}
	return cfg, extra, cfg.Validate()
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// RenderMarker is the file that marks a directory as a render of a lab:
// a later render of the same lab may replace its files, and nothing else
// is written into a non-empty directory without --force.
const RenderMarker = ".lab-render"

// ErrRenderDir is the refusal of a --out that is neither empty nor an
// earlier render of the same lab.
var ErrRenderDir = errors.New("refusing to render")

func renderMarkerText(name string) string { return "lab render of lab " + name + "\n" }

// CheckRenderDir refuses, without writing anything, a directory that is
// not empty (or new) and not an earlier render of lab name, unless force.
// Render calls it before it makes the lab's keys, so a refusal leaves
// nothing behind.
func CheckRenderDir(dir, name string, force bool) error {
	if force {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", dir, err)
	}
	have, _ := readRegular(filepath.Join(dir, RenderMarker))
	if len(entries) > 0 && have != renderMarkerText(name) {
		return fmt.Errorf("%w into %s: it is not empty and not an earlier render of lab %q; use an empty or new directory, or pass --force to replace lab's files in it",
			ErrRenderDir, dir, name)
	}
	return nil
}

// WriteRender writes what create sends, for people to read: per node its
// seed files, etcd.service and seed.iso (0600: they hold private keys), and
// the certificates etcd uses (the key 0600). Every file is written to a new
// temporary file with its final mode and renamed into place (atomicfile):
// an existing file's mode does not carry over and a symbolic link is
// replaced, never followed. A directory that is not empty and is not an
// earlier render of the same lab is refused unless force is set.
func WriteRender(dir string, in RenderInputs, seeds []NodeSeed, force bool) error {
	if err := CheckRenderDir(dir, in.Plan.Spec.Name, force); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	marker := filepath.Join(dir, RenderMarker)
	want := renderMarkerText(in.Plan.Spec.Name)
	if err := atomicfile.Write(marker, []byte(want), 0o644); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{guest.CAFile, in.PKI.CACertPEM, 0o644},
		{guest.CertFile, in.PKI.CertPEM, 0o644},
		{guest.KeyFile, in.PKI.KeyPEM, 0o600},
	} {
		if err := atomicfile.Write(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	for _, s := range seeds {
		nodeDir := filepath.Join(dir, s.Node.Name)
		if err := atomicfile.MkdirPrivate(nodeDir, 0o700); err != nil {
			return err
		}
		if err := writeSeedFiles(nodeDir, s.Seed); err != nil {
			return fmt.Errorf("writing the seed of %s: %w", s.Node.Name, err)
		}
		if err := atomicfile.Write(filepath.Join(nodeDir, path.Base(guest.UnitPath)), s.Unit, 0o644); err != nil {
			return fmt.Errorf("writing etcd.service of %s: %w", s.Node.Name, err)
		}
		if err := writeISO(filepath.Join(nodeDir, "seed.iso"), s.Seed); err != nil {
			return err
		}
	}
	return nil
}

// readRegular reads a regular file, not through a symbolic link.
func readRegular(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// writeSeedFiles writes the seed's files as the ISO carries them, 0600
// (user-data holds private keys); the etcd binaries 0755.
func writeSeedFiles(dir string, seed cloudinit.Seed) error {
	files := map[string][]byte{cloudinit.MetaDataFile: seed.MetaData, cloudinit.UserDataFile: seed.UserData}
	if seed.NetworkConfig != nil {
		files[cloudinit.NetworkConfigFile] = seed.NetworkConfig
	}
	for name, data := range seed.Extra {
		if err := cloudinit.ValidExtraName(name); err != nil {
			return err
		}
		files[name] = data
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := atomicfile.Write(filepath.Join(dir, name), files[name], 0o600); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(seed.ExtraFiles)) {
		if err := cloudinit.ValidExtraName(name); err != nil {
			return err
		}
		src, err := os.Open(seed.ExtraFiles[name])
		if err != nil {
			return fmt.Errorf("reading %s for the seed: %w", name, err)
		}
		err = atomicfile.WriteFrom(filepath.Join(dir, name), src, 0o755)
		src.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// writeISO writes the seed ISO (0600: it holds private keys) through a new
// temporary file renamed into place, so a failed write never leaves a
// truncated ISO to be uploaded later, and nothing is written through an
// existing file or a symbolic link.
func writeISO(path string, seed cloudinit.Seed) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return atomicfile.WriteWith(path, 0o600, func(f *os.File) error {
		if err := cloudinit.WriteISO(f, seed); err != nil {
			return err
		}
		return cloudinit.ClearISODates(f, f)
	})
}
