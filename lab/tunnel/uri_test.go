package tunnel

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		uri     string
		want    Target
		wantErr []string
	}{
		{uri: "qemu+ssh://alice@big.example/system",
			want: Target{User: "alice", Host: "big.example", Port: 22, Path: "/system"}},
		{uri: "qemu+ssh://big.example/session",
			want: Target{Host: "big.example", Port: 22, Path: "/session"}},
		{uri: "qemu+ssh://root@10.0.0.5:2222/system?socket=/run/libvirt/virtqemud-sock",
			want: Target{User: "root", Host: "10.0.0.5", Port: 2222, Path: "/system", Socket: "/run/libvirt/virtqemud-sock"}},
		{uri: "qemu+ssh://root@[fd00::5]:22/system",
			want: Target{User: "root", Host: "fd00::5", Port: 22, Path: "/system"}},
		{uri: "qemu+ssh://root@h/system?keyfile=~/.ssh/lab&known_hosts=/tmp/kh",
			want: Target{User: "root", Host: "h", Port: 22, Path: "/system", KeyFile: "~/.ssh/lab", KnownHosts: "/tmp/kh"}},
		{uri: "qemu+ssh://root@h/system?keyfile=/k/../k/id",
			want: Target{User: "root", Host: "h", Port: 22, Path: "/system", KeyFile: "/k/id"}},

		{uri: "qemu+tls://h/system", wantErr: []string{"tls transport is not supported", "qemu+ssh://user@host/system"}},
		{uri: "qemu+libssh2://h/system", wantErr: []string{"libssh2 transport is not supported"}},
		{uri: "xen://h/", wantErr: []string{`scheme "xen"`, "qemu+ssh://"}},
		{uri: "qemu+ssh:///system", wantErr: []string{"no host"}},
		{uri: "qemu+ssh://u:secret@h/system", wantErr: []string{"passwords", "SSH agent or keyfile="}},
		{uri: "qemu+ssh://h:0/system", wantErr: []string{`port "0"`}},
		{uri: "qemu+ssh://h:ssh/system", wantErr: []string{"port"}},
		{uri: "qemu+ssh://h", wantErr: []string{`path ""`, "/system"}},
		{uri: "qemu+ssh://h/embed", wantErr: []string{`path "/embed"`}},
		{uri: "qemu+ssh://h/system#x", wantErr: []string{"fragment"}},
		{uri: "qemu+ssh://h/system?no_verify=1", wantErr: []string{"no_verify= is not supported", "ssh-keyscan"}},
		{uri: "qemu+ssh://h/system?netcat=/bin/nc", wantErr: []string{"netcat= is not supported", "socket="}},
		{uri: "qemu+ssh://h/system?sshauth=agent", wantErr: []string{"sshauth= is not supported", "keyfile="}},
		{uri: "qemu+ssh://h/system?color=red", wantErr: []string{"unknown option color=", "socket=, keyfile= and known_hosts="}},
		{uri: "qemu+ssh://h/system?socket=run/sock", wantErr: []string{"socket=run/sock is not an absolute path"}},
		{uri: "qemu+ssh://h/system?socket=~/sock", wantErr: []string{"not an absolute path on the remote host"}},
		{uri: "qemu+ssh://h/system?keyfile=id_rsa", wantErr: []string{"keyfile=id_rsa is not an absolute path", "~/path"}},
		{uri: "qemu+ssh://h/system?keyfile=", wantErr: []string{"keyfile= is empty"}},
		{uri: "qemu+ssh://h/system?keyfile=/a&keyfile=/b", wantErr: []string{"given 2 times"}},
		{uri: "qemu+ssh://h/system?%zz", wantErr: []string{"reading the options"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.uri)
		if tt.wantErr != nil {
			if err == nil {
				t.Errorf("Parse(%q) = %+v, want an error", tt.uri, got)
				continue
			}
			for _, w := range append(tt.wantErr, tt.uri) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%q) error %q lacks %q", tt.uri, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.uri, err)
			continue
		}
		tt.want.URI = tt.uri
		if got != tt.want {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.uri, got, tt.want)
		}
	}
}

func TestTargetDerived(t *testing.T) {
	tg, err := Parse("qemu+ssh://root@[fd00::5]:2222/session")
	if err != nil {
		t.Fatal(err)
	}
	if got := tg.Addr(); got != "[fd00::5]:2222" {
		t.Errorf("Addr = %q", got)
	}
	if got := tg.LibvirtURI(); got != "qemu:///session" {
		t.Errorf("LibvirtURI = %q", got)
	}
}

func TestIsRemote(t *testing.T) {
	for uri, want := range map[string]bool{
		"qemu:///system":                 false,
		"qemu:///session":                false,
		"qemu:///system?socket=/tmp/s":   false,
		"qemu+ssh://root@h/system":       true,
		"qemu+tls://h/system":            true,
		"qemu://h/system":                true,
		"qemu+unix:///system":            true,
		"qemu+ssh://h/system?%zz&x=%%%%": true,
	} {
		if got := IsRemote(uri); got != want {
			t.Errorf("IsRemote(%q) = %v, want %v", uri, got, want)
		}
	}
}
