package cloudinit

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebianCloudInitAccepts checks the rendered documents with a real
// cloud-init, when LAB_CLOUD_INIT names one (a command or a wrapper). Debian
// 12's can run without being installed: apt-get download cloud-init and
// its python3 dependencies, dpkg-deb -x them into a directory, and run
// its usr/bin/cloud-init with PYTHONPATH set to the extracted
// usr/lib/python3/dist-packages.
func TestDebianCloudInitAccepts(t *testing.T) {
	ci := os.Getenv("LAB_CLOUD_INIT")
	if ci == "" {
		t.Skip("LAB_CLOUD_INIT is not set: cloud-init's schema and network renderer not run (see the test's comment)")
	}
	_, isolated, user := k8smaster0(t)
	dir := t.TempDir()
	write := func(name string, render func() ([]byte, error)) string {
		b, err := render()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	userData := write("user-data", user.Marshal)
	if out, err := exec.CommandContext(t.Context(), ci, "schema", "--config-file", userData).CombinedOutput(); err != nil {
		t.Errorf("cloud-init schema rejects user-data: %v\n%s", err, out)
	}

	nat := isolated
	eth := nat.Ethernets["eth0"]
	eth.Gateway4 = netip.MustParseAddr("192.168.199.1")
	nat.Ethernets = map[string]Ethernet{"eth0": eth}
	for _, tc := range []struct {
		name    string
		config  NetworkConfig
		want    []string
		notWant []string
	}{
		{"isolated", isolated, []string{"iface eth0 inet static", "address 192.168.199.200/24"}, []string{"gateway", "route"}},
		{"nat", nat, []string{"iface eth0 inet static", "gateway 192.168.199.1"}, []string{"route add"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := write("network-config-"+tc.name, tc.config.Marshal)
			out := filepath.Join(dir, "out-"+tc.name)
			cmd := exec.CommandContext(t.Context(), ci, "devel", "net-convert",
				"-p", in, "-k", "yaml", "-d", out, "-D", "debian", "-O", "eni")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("cloud-init net-convert: %v\n%s", err, b)
			}
			eni, err := os.ReadFile(filepath.Join(out, "etc/network/interfaces.d/50-cloud-init"))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !strings.Contains(string(eni), s) {
					t.Errorf("rendered interfaces lack %q:\n%s", s, eni)
				}
			}
			for _, s := range tc.notWant {
				if strings.Contains(string(eni), s) {
					t.Errorf("rendered interfaces contain %q:\n%s", s, eni)
				}
			}
		})
	}
}
