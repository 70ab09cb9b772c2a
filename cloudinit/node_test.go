package cloudinit

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"
)

// Placeholders stand in for the lab's real keys and certificates: the
// layout of the documents is under test, not the PKI.
const (
	testCA      = "-----BEGIN CERTIFICATE-----\nMIIBCA==\n-----END CERTIFICATE-----\n"
	testCert    = "-----BEGIN CERTIFICATE-----\nMIIBCERT==\n-----END CERTIFICATE-----\n"
	testKey     = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE==\n-----END EC PRIVATE KEY-----\n"
	testHostKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA==\n-----END OPENSSH PRIVATE KEY-----\n"
	testHostPub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfK8smaster0 root@k8smaster0"
	testUserPub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILabUserKey lab@kthw"
	testUnit    = "[Unit]\nDescription=etcd\n\n[Service]\nExecStart=/usr/local/bin/etcd\n"
	testEtcdSum = "0f343b0931126a20f133d67c2b018a3b5e8a1a7b0bd2d6f8a1c4a7e0e4b8f6a1"
	testCtlSum  = "9c1185a5c5e9fc54612808977ee8f548b2258d31e3b1f6e7b2c6d3f3f0a1b2c3"
)

// k8smaster0 is a representative node: the first control-plane node of the
// default three-node lab on an isolated network.
func k8smaster0(t *testing.T) (MetaData, NetworkConfig, CloudConfig) {
	t.Helper()
	meta := MetaData{InstanceID: "kthw-k8smaster0-1", LocalHostname: "k8smaster0"}
	network := NetworkConfig{Ethernets: map[string]Ethernet{
		"eth0": {
			MACAddress: "52:54:00:AB:CD:00",
			Addresses:  []netip.Prefix{netip.MustParsePrefix("192.168.199.200/24")},
		},
	}}
	install, err := InstallCommands("/run/lab-seed",
		Install{Name: "etcd", SHA256: testEtcdSum, Dest: "/usr/local/bin/etcd", Mode: 0o755},
		Install{Name: "etcdctl", SHA256: testCtlSum, Dest: "/usr/local/bin/etcdctl", Mode: 0o755},
	)
	if err != nil {
		t.Fatal(err)
	}
	mount, err := Mount{Device: "/dev/vdb", Dir: "/var/lib/etcd", Type: "ext4", Options: DefaultMountOptions, PassNo: 2}.Commands()
	if err != nil {
		t.Fatal(err)
	}
	user := CloudConfig{
		Hostname:       "k8smaster0",
		ManageEtcHosts: true,
		Users: []User{{
			Name:              "lab",
			Sudo:              "ALL=(ALL) NOPASSWD:ALL",
			Shell:             "/bin/bash",
			Groups:            []string{"adm", "systemd-journal"},
			SSHAuthorizedKeys: []string{testUserPub},
			LockPasswd:        new(true),
		}},
		DisableRoot:   new(true),
		SSHDeleteKeys: new(true),
		SSHKeys:       &SSHHostKeys{ED25519Private: testHostKey, ED25519Public: testHostPub},
		FSSetup: []Filesystem{{
			Label: "etcd-data", Filesystem: "ext4", Device: "/dev/vdb", Partition: "auto",
		}},
		WriteFiles: []File{
			{Path: "/etc/etcd/ca.pem", Content: testCA, Permissions: 0o644},
			{Path: "/etc/etcd/kubernetes.pem", Content: testCert, Permissions: 0o600},
			{Path: "/etc/etcd/kubernetes-key.pem", Content: testKey, Permissions: 0o600},
			{Path: "/etc/systemd/system/etcd.service", Content: testUnit, Permissions: 0o644},
		},
		RunCmd: slices.Concat(mount,
			[]Command{Exec("chmod", "0700", "/var/lib/etcd")},
			install,
			[]Command{Exec("systemctl", "enable", "--now", "--no-block", "--no-reload", "etcd")},
		),
		FinalMessage: ReadyMessage,
	}
	return meta, network, user
}

func TestRepresentativeNodeGolden(t *testing.T) {
	meta, network, user := k8smaster0(t)
	for _, tc := range []struct {
		name   string
		render func() ([]byte, error)
	}{
		{"k8smaster0.meta-data.golden", meta.Marshal},
		{"k8smaster0.network-config.golden", network.Marshal},
		{"k8smaster0.user-data.golden", user.Marshal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "testdata/"+tc.name, got)
		})
	}
}
