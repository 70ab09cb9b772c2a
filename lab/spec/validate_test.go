package spec

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// fieldErrors unpacks Validate's joined error into its *FieldErrors and fails
// the test if any part is of another type.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	if err == nil {
		return nil
	}
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	} else {
		parts = []error{err}
	}
	var out []*FieldError
	for _, p := range parts {
		var fe *FieldError
		if !errors.As(p, &fe) {
			t.Fatalf("error %q is not a *FieldError", p)
		}
		out = append(out, fe)
	}
	return out
}

func TestDefaultsAreValid(t *testing.T) {
	s := Defaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("Defaults().Validate() = %v", err)
	}
	want := Spec{
		Name: "kthw", Subnet: netip.MustParsePrefix("192.168.199.0/24"), Nodes: 3, CPUs: 2, MemoryMiB: 1024,
		DataPool: "ssd", NetworkMode: "isolated", Accel: "auto",
		HeartbeatInterval: 100 * time.Millisecond, ElectionTimeout: time.Second, EtcdVersion: "3.6.16",
	}
	if s.Name != want.Name || s.Subnet != want.Subnet || s.Nodes != want.Nodes || s.CPUs != want.CPUs ||
		s.MemoryMiB != want.MemoryMiB || s.DataPool != want.DataPool || s.NetworkMode != want.NetworkMode ||
		s.Accel != want.Accel || s.HeartbeatInterval != want.HeartbeatInterval ||
		s.ElectionTimeout != want.ElectionTimeout || s.EtcdVersion != want.EtcdVersion ||
		s.SSDPath != "" || s.HDDPath != "" || s.NodePools != nil || s.EtcdBinary != "" || s.Image != "" {
		t.Errorf("Defaults() = %+v, want %+v", s, want)
	}
}

func TestValidateAcceptsVariants(t *testing.T) {
	for name, mod := range map[string]func(*Spec){
		"one node":              func(s *Spec) { s.Nodes = 1 },
		"five nodes":            func(s *Spec) { s.Nodes = 5 },
		"eleven-char name":      func(s *Spec) { s.Name = "abcdefghijk" },
		"hyphenated name":       func(s *Spec) { s.Name = "a-1" },
		"ten-slash-sixteen":     func(s *Spec) { s.Subnet = netip.MustParsePrefix("10.20.0.0/16") },
		"172.16 /23":            func(s *Spec) { s.Subnet = netip.MustParsePrefix("172.16.4.0/23") },
		"nine nodes":            func(s *Spec) { s.Nodes = 9 },
		"as many vCPUs as QEMU": func(s *Spec) { s.CPUs = MaxCPUs },
		"longest heartbeat":     func(s *Spec) { s.HeartbeatInterval, s.ElectionTimeout = MaxHeartbeatInterval, MaxElectionTimeout },
		"hdd for all":           func(s *Spec) { s.DataPool = "hdd" },
		"hdd for one":           func(s *Spec) { s.NodePools = map[string]string{"k8smaster1": "hdd"} },
		"custom paths":          func(s *Spec) { s.SSDPath, s.HDDPath = "/mnt/ssd/lab", "/mnt/hdd/lab" },
		"nat":                   func(s *Spec) { s.NetworkMode = "nat" },
		"kvm":                   func(s *Spec) { s.Accel = "kvm" },
		"tcg":                   func(s *Spec) { s.Accel = "tcg" },
		"exactly 5x":            func(s *Spec) { s.HeartbeatInterval, s.ElectionTimeout = 500*time.Millisecond, 2500*time.Millisecond },
		"election at max":       func(s *Spec) { s.HeartbeatInterval, s.ElectionTimeout = time.Second, 50*time.Second },
		"etcd binary":           func(s *Spec) { s.EtcdBinary = "/opt/etcd/etcd" },
		"image name":            func(s *Spec) { s.Image = "debian-12.qcow2" },
		"image path":            func(s *Spec) { s.Image = "/srv/images/base.qcow2" },
		"etcd 3.4":              func(s *Spec) { s.EtcdVersion = "3.4.23" },
	} {
		t.Run(name, func(t *testing.T) {
			s := Defaults()
			mod(&s)
			if err := s.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejectsEachField(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Spec)
		flag string
		want string // a substring of the message
	}{
		{"empty name", func(s *Spec) { s.Name = "" }, "--lab", "empty"},
		{"long name", func(s *Spec) { s.Name = "abcdefghijkl" }, "--lab", "15-character"},
		{"upper-case name", func(s *Spec) { s.Name = "Kthw" }, "--lab", "lower-case"},
		{"name starts with digit", func(s *Spec) { s.Name = "1lab" }, "--lab", "starting with a letter"},
		{"name with dot", func(s *Spec) { s.Name = "a.b" }, "--lab", "libvirt and bridge names"},
		{"name ends with hyphen", func(s *Spec) { s.Name = "lab-" }, "--lab", "inner hyphens"},
		{"no subnet", func(s *Spec) { s.Subnet = netip.Prefix{} }, "--subnet", "no subnet"},
		{"IPv6 subnet", func(s *Spec) { s.Subnet = netip.MustParsePrefix("fd00::/64") }, "--subnet", "IPv4"},
		{"host bits set", func(s *Spec) { s.Subnet = netip.MustParsePrefix("192.168.199.5/24") }, "--subnet", "use the network address, 192.168.199.0/24"},
		{"public subnet", func(s *Spec) { s.Subnet = netip.MustParsePrefix("8.8.8.0/24") }, "--subnet", "private range"},
		{"straddles private", func(s *Spec) { s.Subnet = netip.MustParsePrefix("10.0.0.0/7") }, "--subnet", "private range"},
		{"/26 cannot hold .200", func(s *Spec) { s.Subnet = netip.MustParsePrefix("192.168.199.0/26") }, "--subnet", "subnet too small for 3 nodes"},
		{"/25 cannot hold .200", func(s *Spec) { s.Subnet = netip.MustParsePrefix("192.168.199.128/25") }, "--subnet", "use a /24 or larger, such as 192.168.199.0/24"},
		{"/30", func(s *Spec) { s.Subnet = netip.MustParsePrefix("192.168.199.0/30") }, "--subnet", "subnet too small"},
		{"9 nodes in a /25", func(s *Spec) { s.Nodes, s.Subnet = 9, netip.MustParsePrefix("192.168.199.128/25") }, "--subnet", "use a /24 or larger"},
		{"eleven nodes", func(s *Spec) { s.Nodes = 11 }, "--nodes", "use 1, 3, 5, 7 or 9"},
		{"1001 nodes", func(s *Spec) { s.Nodes = 1001 }, "--nodes", "more than the 9 members"},
		{"100000 cpus", func(s *Spec) { s.CPUs = 100000 }, "--cpus", "more than the 255 vCPUs"},
		{"heartbeat over max", func(s *Spec) { s.HeartbeatInterval = 10001 * time.Millisecond }, "--heartbeat-interval", "use at most 10000"},
		{"zero nodes", func(s *Spec) { s.Nodes = 0 }, "--nodes", "at least one"},
		{"even nodes", func(s *Spec) { s.Nodes = 4 }, "--nodes", "use 3 or 5"},
		{"zero cpus", func(s *Spec) { s.CPUs = 0 }, "--cpus", "at least one vCPU"},
		{"tiny memory", func(s *Spec) { s.MemoryMiB = 128 }, "--memory", "at least 256"},
		{"bad pool", func(s *Spec) { s.DataPool = "nvme" }, "--data-pool", `"nvme": unknown pool`},
		{"bad node pool", func(s *Spec) { s.NodePools = map[string]string{"k8smaster1": "tape"} }, "--data-pool", `"k8smaster1=tape": unknown pool`},
		{"unknown node", func(s *Spec) { s.NodePools = map[string]string{"k8smaster3": "hdd"} }, "--data-pool", "no node \"k8smaster3\" in a 3-node lab"},
		{"relative ssd path", func(s *Spec) { s.SSDPath = "ssd" }, "--ssd-path", "/var/lib/libvirt/images/lab-kthw-ssd"},
		{"unclean hdd path", func(s *Spec) { s.HDDPath = "/mnt//hdd/" }, "--hdd-path", "use /mnt/hdd"},
		{"root pool", func(s *Spec) { s.SSDPath = "/" }, "--ssd-path", "root directory"},
		{"same pool paths", func(s *Spec) { s.SSDPath, s.HDDPath = "/mnt/disk", "/mnt/disk" }, "--hdd-path", "different directories"},
		{"default path clash", func(s *Spec) { s.HDDPath = PoolPath("kthw", "ssd") }, "--hdd-path", "same directory"},
		{"network mode", func(s *Spec) { s.NetworkMode = "bridge" }, "--network-mode", `use "isolated"`},
		{"accel", func(s *Spec) { s.Accel = "hvf" }, "--accel", `"auto", "kvm" or "tcg"`},
		{"zero heartbeat", func(s *Spec) { s.HeartbeatInterval = 0 }, "--heartbeat-interval", "must be positive"},
		{"negative heartbeat", func(s *Spec) { s.HeartbeatInterval = -time.Millisecond }, "--heartbeat-interval", "-1: must be positive"},
		{"sub-ms heartbeat", func(s *Spec) { s.HeartbeatInterval = 100500 * time.Microsecond }, "--heartbeat-interval", "whole milliseconds"},
		{"zero election", func(s *Spec) { s.ElectionTimeout = 0 }, "--election-timeout", "must be positive"},
		{"election under 5x", func(s *Spec) { s.ElectionTimeout = 499 * time.Millisecond }, "--election-timeout", "use at least 500, or lower --heartbeat-interval to at most 99"},
		{"election over max", func(s *Spec) { s.HeartbeatInterval, s.ElectionTimeout = time.Second, 50001*time.Millisecond }, "--election-timeout", "use at most 50000"},
		{"relative etcd binary", func(s *Spec) { s.EtcdBinary = "bin/etcd" }, "--etcd-binary", "absolute"},
		{"relative image path", func(s *Spec) { s.Image = "images/base.qcow2" }, "--image", "relative path"},
		{"odd image name", func(s *Spec) { s.Image = "-base" }, "--image", "lab image list"},
		{"empty etcd version", func(s *Spec) { s.EtcdVersion = "" }, "--etcd-version", "MAJOR.MINOR.PATCH"},
		{"v-prefixed version", func(s *Spec) { s.EtcdVersion = "v3.6.16" }, "--etcd-version", "such as 3.6.16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			tt.mod(&s)
			errs := fieldErrors(t, s.Validate())
			if len(errs) != 1 {
				t.Fatalf("Validate() gave %d errors, want 1: %v", len(errs), errs)
			}
			msg := errs[0].Error()
			if errs[0].Flag != tt.flag || !strings.HasPrefix(msg, tt.flag+" ") {
				t.Errorf("error %q names %s, want %s", msg, errs[0].Flag, tt.flag)
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			if errs[0].Fix == "" {
				t.Errorf("error %q has no fix", msg)
			}
			if _, err := s.Plan(); err == nil {
				t.Errorf("Plan() accepted a spec Validate rejects")
			}
		})
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	s := Spec{} // every field missing
	errs := fieldErrors(t, s.Validate())
	flags := map[string]bool{}
	for _, e := range errs {
		flags[e.Flag] = true
	}
	for _, f := range []string{"--lab", "--subnet", "--nodes", "--cpus", "--memory", "--data-pool",
		"--network-mode", "--accel", "--heartbeat-interval", "--election-timeout", "--etcd-version"} {
		if !flags[f] {
			t.Errorf("zero Spec: no error for %s; got %v", f, errs)
		}
	}
}
