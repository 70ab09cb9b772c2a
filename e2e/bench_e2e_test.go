//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/cloudinit"
	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/images/cache"
	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/pki"
	"github.com/kthw-lab/lab/lab/progress"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/lab/wait"
)

// BenchmarkCreate measures `lab create` against the bare boot of the same
// image in the same run: three VMs with the smallest seed that lets SSH in
// (the lab user's key and the pinned host key, nothing else), started at
// once, timed until all three answer SSH. It prints create's steps, the
// ratio and destroy's time. Run: make bench (one iteration is the point).
func BenchmarkCreate(b *testing.B) {
	for range b.N {
		bare := bareBoot(b)
		state := b.TempDir()
		start := time.Now()
		out, steps, err := timedLab(b, state, "create", "--subnet", subnet, "--accel", "tcg", "--cpus", "1", "--memory", "768")
		create := time.Since(start)
		if err != nil {
			timedLab(b, state, "destroy")
			b.Fatalf("lab create: %v\n%s", err, out)
		}
		start = time.Now()
		if out, _, err := timedLab(b, state, "destroy"); err != nil {
			b.Fatalf("lab destroy: %v\n%s", err, out)
		}
		destroy := time.Since(start)
		for _, s := range steps {
			b.Logf("create step %-45s %s", s[0], s[1])
		}
		b.Logf("bare boot to SSH (3 VMs): %s; lab create: %s; ratio %.2f; lab destroy: %s",
			bare.Round(time.Second), create.Round(time.Second), create.Seconds()/bare.Seconds(), destroy.Round(100*time.Millisecond))
		b.ReportMetric(bare.Seconds(), "bare-ssh-s")
		b.ReportMetric(create.Seconds(), "create-s")
		b.ReportMetric(create.Seconds()/bare.Seconds(), "create/bare")
		b.ReportMetric(destroy.Seconds(), "destroy-s")
	}
}

var stepLine = regexp.MustCompile(`^✓ (.+) \(([0-9.]+m?s|[0-9]+m[0-9.]+s)\)$`)

// timedLab runs the CLI for the e2e lab and returns its output and the
// step lines ("✓ step (1.2s)") it printed on stderr.
func timedLab(b *testing.B, state string, args ...string) (string, [][2]string, error) {
	cmd := exec.Command(labBin, append([]string{"--lab", labName, "--state-dir", state}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var steps [][2]string
	for _, line := range strings.Split(errb.String(), "\n") {
		if m := stepLine.FindStringSubmatch(line); m != nil {
			steps = append(steps, [2]string{m[1], m[2]})
		}
	}
	if err != nil {
		return out.String() + errb.String(), steps, err
	}
	return out.String(), steps, nil
}

// bareBoot boots three VMs of the cached base image with a minimal seed on
// an isolated network of their own and returns how long until all three
// accepted SSH with their pinned host keys. Everything is removed after.
func bareBoot(b *testing.B) time.Duration {
	ctx := context.Background()
	s := spec.Defaults()
	s.Name = "bare"
	s.Subnet = netip.MustParsePrefix("192.168.196.0/24")
	s.CPUs, s.MemoryMiB = 1, 768
	plan, err := s.Plan()
	if err != nil {
		b.Fatal(err)
	}
	img, err := images.Resolve(cache.New(os.Getenv("LAB_CACHE_DIR")), images.BuiltName(images.DefaultSuite))
	if err != nil {
		b.Fatal(err)
	}
	req := pki.Request{Lab: s.Name}
	for _, n := range plan.Nodes {
		req.Nodes = append(req.Nodes, pki.Node{Name: n.Name, IP: n.IP})
	}
	keys, err := pki.Generate(req)
	if err != nil {
		b.Fatal(err)
	}
	prov, err := virt.Dial(ctx, "qemu:///system")
	if err != nil {
		b.Fatalf("THE BENCHMARK NEEDS libvirtd: %v", err)
	}
	defer prov.Close()
	dir := b.TempDir()
	ssd := plan.Pool(spec.PoolSSD)
	cleanup := func() {
		for _, n := range plan.Nodes {
			prov.DeleteDomain(ctx, n.Domain, s.Name)
			prov.DeleteVolume(ctx, ssd.Name, n.OS.Name, s.Name)
			prov.DeleteVolume(ctx, ssd.Name, n.Seed.Name, s.Name)
		}
		prov.DeletePool(ctx, ssd.Name, s.Name)
		os.Remove(ssd.Path)
		prov.DeleteNetwork(ctx, plan.Network.Name, s.Name)
	}
	defer cleanup()
	net := plan.Network
	if _, err := prov.EnsureNetwork(ctx, virt.NetworkSpec{Name: net.Name, Bridge: net.Bridge, Gateway: net.Gateway, Prefix: net.Subnet.Bits(), Mode: net.Mode, Lab: s.Name}); err != nil {
		b.Fatal(err)
	}
	if _, err := prov.EnsurePool(ctx, virt.PoolSpec{Name: ssd.Name, Path: ssd.Path, Lab: s.Name}); err != nil {
		b.Fatal(err)
	}
	var conds []wait.Condition
	for _, n := range plan.Nodes {
		iso := bareSeed(b, dir, keys, n)
		if _, err := prov.CreateVolume(ctx, ssd.Name, virt.VolumeSpec{Name: n.OS.Name, Lab: s.Name, Format: virt.FormatQcow2, BackingPath: img.Disk}); err != nil {
			b.Fatal(err)
		}
		if _, err := prov.CreateVolume(ctx, ssd.Name, virt.VolumeSpec{Name: n.Seed.Name, Lab: s.Name, Format: virt.FormatRaw, CapacityBytes: uint64(len(iso))}); err != nil {
			b.Fatal(err)
		}
		if err := prov.UploadVolume(ctx, ssd.Name, n.Seed.Name, s.Name, bytes.NewReader(iso), int64(len(iso))); err != nil {
			b.Fatal(err)
		}
		d := virt.DomainSpec{Name: n.Domain, Lab: s.Name, Node: n.Name, VCPUs: 1, MemoryMiB: 768, Accel: virt.AccelTCG,
			Boot:   virt.Boot{Kernel: img.Kernel, Initrd: img.Initrd, Cmdline: "root=/dev/vda rw console=ttyS0,115200n8 net.ifnames=0 biosdevname=0"},
			OSDisk: n.OS.Path, SeedISO: n.Seed.Path, Network: net.Name, MAC: n.MAC, ConsoleLog: filepath.Join(dir, n.Name+".log")}
		if err := prov.DefineDomain(ctx, d); err != nil {
			b.Fatal(err)
		}
		cfg, err := lab.SSHConfig(keys, n)
		if err != nil {
			b.Fatal(err)
		}
		conds = append(conds, labssh.Condition(cfg))
	}
	start := time.Now()
	for _, n := range plan.Nodes {
		if err := prov.StartDomain(ctx, n.Domain); err != nil {
			b.Fatal(err)
		}
	}
	if err := wait.All(ctx, progress.Discard, 10*time.Minute, conds...); err != nil {
		b.Fatalf("bare boot: %v", err)
	}
	return time.Since(start)
}

// bareSeed is the least a node needs to be reached: its address, the lab
// user's key and its pinned host key.
func bareSeed(b *testing.B, dir string, keys *pki.PKI, n spec.Node) []byte {
	meta, _ := cloudinit.MetaData{InstanceID: n.Domain + "-bare", LocalHostname: n.Name}.Marshal()
	netcfg, _ := cloudinit.NetworkConfig{Ethernets: map[string]cloudinit.Ethernet{"eth0": {
		MACAddress: n.MAC, Addresses: []netip.Prefix{netip.PrefixFrom(n.IP, 24)}}}}.Marshal()
	yes := true
	user, err := cloudinit.CloudConfig{
		Hostname:      n.Name,
		Users:         []cloudinit.User{{Name: lab.User, Sudo: "ALL=(ALL) NOPASSWD:ALL", Shell: "/bin/bash", SSHAuthorizedKeys: []string{strings.TrimSpace(string(keys.User.AuthorizedKey))}, LockPasswd: &yes}},
		SSHDeleteKeys: &yes,
		SSHKeys:       &cloudinit.SSHHostKeys{ED25519Private: string(keys.HostKeys[n.Name].PrivatePEM), ED25519Public: strings.TrimSpace(string(keys.HostKeys[n.Name].AuthorizedKey))},
	}.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	iso, err := cloudinit.ISO(cloudinit.Seed{MetaData: meta, UserData: user, NetworkConfig: netcfg})
	if err != nil {
		b.Fatal(fmt.Errorf("bare seed of %s: %w", n.Name, err))
	}
	return iso
}
