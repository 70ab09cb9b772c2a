package cloudinit

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestUserDataRoundTrip(t *testing.T) {
	_, _, user := k8smaster0(t)
	b, err := user.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	body, ok := bytes.CutPrefix(b, []byte("#cloud-config\n"))
	if !ok {
		t.Fatalf("user-data does not start with the #cloud-config line: %q", b[:min(len(b), 40)])
	}
	var back CloudConfig
	if err := yaml.Unmarshal(body, &back); err != nil {
		t.Fatalf("parsing rendered user-data: %v", err)
	}
	if !reflect.DeepEqual(back, user) {
		t.Errorf("user-data does not round-trip:\n got %+v\nwant %+v", back, user)
	}

	// Generic decoding sees what cloud-init's loader sees: permissions and
	// numeric-looking arguments must stay strings.
	var doc map[string]any
	if err := yaml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc["write_files"].([]any) {
		if p := f.(map[string]any)["permissions"]; reflect.TypeOf(p).Kind() != reflect.String {
			t.Errorf("permissions %v decode as %T, want a string", p, p)
		}
	}
	if arg := doc["runcmd"].([]any)[2].([]any)[1]; arg != "0700" {
		t.Errorf("runcmd argument 0700 decodes as %#v", arg)
	}
}

func TestUserDataOmitsUnsetSettings(t *testing.T) {
	b, err := CloudConfig{Hostname: "node"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if want := "#cloud-config\nhostname: node\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
}

func TestUserDataValidation(t *testing.T) {
	for name, c := range map[string]CloudConfig{
		"user without name":  {Users: []User{{Shell: "/bin/sh"}}},
		"relative file":      {WriteFiles: []File{{Path: "etc/x"}}},
		"unclean file":       {WriteFiles: []File{{Path: "/etc/../x"}}},
		"setuid file":        {WriteFiles: []File{{Path: "/x", Permissions: 0o4755}}},
		"unknown encoding":   {WriteFiles: []File{{Path: "/x", Encoding: "zstd"}}},
		"file written twice": {WriteFiles: []File{{Path: "/x"}, {Path: "/x"}}},
		"fs without device":  {FSSetup: []Filesystem{{Filesystem: "ext4"}}},
		"fs bad partition":   {FSSetup: []Filesystem{{Filesystem: "ext4", Device: "/dev/vdb", Partition: "first"}}},
		"empty runcmd":       {RunCmd: []Command{{}}},
		"runcmd both forms":  {RunCmd: []Command{{Shell: "true", Args: []string{"true"}}}},
		"empty bootcmd":      {BootCmd: []Command{{Args: []string{}}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := c.Marshal(); err == nil {
				t.Error("Marshal accepted an invalid config")
			}
		})
	}
}

func TestCommandYAML(t *testing.T) {
	b, err := encodeYAML([]Command{Shell("echo hi | cat"), Exec("systemctl", "start", "etcd")})
	if err != nil {
		t.Fatal(err)
	}
	want := "- echo hi | cat\n- - systemctl\n  - start\n  - etcd\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	var back []Command
	if err := yaml.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, []Command{Shell("echo hi | cat"), Exec("systemctl", "start", "etcd")}) {
		t.Errorf("commands do not round-trip: %#v", back)
	}
	if err := yaml.Unmarshal([]byte("- {a: b}\n"), &back); err == nil {
		t.Error("a mapping was accepted as a command")
	}
}

func TestMetaData(t *testing.T) {
	b, err := MetaData{InstanceID: "i-1", LocalHostname: "k8smaster1"}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var back MetaData
	if err := yaml.Unmarshal(b, &back); err != nil || back != (MetaData{InstanceID: "i-1", LocalHostname: "k8smaster1"}) {
		t.Errorf("meta-data round trip: %+v, %v", back, err)
	}
	if _, err := (MetaData{}).Marshal(); err == nil {
		t.Error("meta-data without instance-id was accepted")
	}
}

func TestNetworkConfigNATMode(t *testing.T) {
	n := NetworkConfig{Ethernets: map[string]Ethernet{"eth0": {
		MACAddress:  "52:54:00:12:34:56",
		SetName:     "eth0",
		Addresses:   []netip.Prefix{netip.MustParsePrefix("192.168.199.201/24")},
		Gateway4:    netip.MustParseAddr("192.168.199.1"),
		Nameservers: []netip.Addr{netip.MustParseAddr("192.168.199.1")},
		Search:      []string{"lab"},
	}}}
	b, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// An all-digit MAC is a base-60 integer to YAML 1.1 (cloud-init's
	// PyYAML) unless quoted.
	if !strings.Contains(string(b), `macaddress: "52:54:00:12:34:56"`) {
		t.Errorf("MAC address is not quoted:\n%s", b)
	}
	var doc networkDoc
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := networkDoc{Version: 2, Ethernets: map[string]ethernetWire{"eth0": {
		Match:       matchWire{MACAddress: "52:54:00:12:34:56"},
		SetName:     "eth0",
		Addresses:   []string{"192.168.199.201/24"},
		Gateway4:    "192.168.199.1",
		Nameservers: &nameserversWire{Addresses: []string{"192.168.199.1"}, Search: []string{"lab"}},
	}}}
	if !reflect.DeepEqual(doc, want) {
		t.Errorf("network-config parses back as\n%+v\nwant\n%+v", doc, want)
	}
}

func TestNetworkConfigIsolatedHasNoRoute(t *testing.T) {
	_, n, _ := k8smaster0(t)
	b, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"gateway", "routes", "nameservers"} {
		if strings.Contains(string(b), key) {
			t.Errorf("isolated network-config mentions %s:\n%s", key, b)
		}
	}
}

func TestNetworkConfigValidation(t *testing.T) {
	addr := []netip.Prefix{netip.MustParsePrefix("192.168.199.200/24")}
	for name, e := range map[string]Ethernet{
		"bad MAC":          {MACAddress: "52:54:00", Addresses: addr},
		"no address":       {MACAddress: "52:54:00:00:00:01"},
		"invalid address":  {MACAddress: "52:54:00:00:00:01", Addresses: []netip.Prefix{{}}},
		"gateway off-link": {MACAddress: "52:54:00:00:00:01", Addresses: addr, Gateway4: netip.MustParseAddr("10.0.0.1")},
		"gateway IPv6":     {MACAddress: "52:54:00:00:00:01", Addresses: addr, Gateway4: netip.MustParseAddr("fe80::1")},
		"bad nameserver":   {MACAddress: "52:54:00:00:00:01", Addresses: addr, Nameservers: []netip.Addr{{}}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := (NetworkConfig{Ethernets: map[string]Ethernet{"eth0": e}}).Marshal(); err == nil {
				t.Error("Marshal accepted an invalid ethernet")
			}
		})
	}
	if _, err := (NetworkConfig{}).Marshal(); err == nil {
		t.Error("Marshal accepted a network-config without ethernets")
	}
}

func TestMountDefaults(t *testing.T) {
	cmds, err := Mount{Device: "/dev/vdc", Dir: "/srv"}.Commands()
	if err != nil {
		t.Fatal(err)
	}
	// All six fields: a missing disk must not block a later boot.
	if got, want := cmds[1].Shell, "echo '/dev/vdc /srv auto defaults,nofail 0 0' >> /etc/fstab"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMountCommands(t *testing.T) {
	cmds, err := Mount{Device: "/dev/vdb", Dir: "/var/lib/etcd", Type: "ext4", PassNo: 2}.Commands()
	if err != nil {
		t.Fatal(err)
	}
	want := []Command{
		Shell("mount -t ext4 -o defaults,nofail /dev/vdb /var/lib/etcd || exit 1"),
		Shell("echo '/dev/vdb /var/lib/etcd ext4 defaults,nofail 0 2' >> /etc/fstab"),
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("got %q, want %q", cmds, want)
	}
	for name, m := range map[string]Mount{
		"by label":           {Device: "LABEL=etcd-data", Dir: "/var/lib/etcd"},
		"relative dir":       {Device: "/dev/vdb", Dir: "var/lib/etcd"},
		"options with space": {Device: "/dev/vdb", Dir: "/d", Options: "a b"},
		"quote in options":   {Device: "/dev/vdb", Dir: "/d", Options: "x'y"},
		"shell in type":      {Device: "/dev/vdb", Dir: "/d", Type: "ext4;reboot"},
	} {
		if _, err := m.Commands(); err == nil {
			t.Errorf("%s: Commands accepted %+v", name, m)
		}
	}
}
