package doctor

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/kthw-lab/lab/lab/accel"
)

func TestKVM(t *testing.T) {
	dev := func(mode fs.FileMode, owner, group string) FileStat {
		return FileStat{Mode: fs.ModeDevice | fs.ModeCharDevice | mode, Owner: owner, Group: group}
	}
	absent := func(h *fakeHost) { delete(h.files, KVMDevice) }
	tests := []struct {
		name     string
		accel    string
		change   func(*fakeHost)
		status   Verdict
		required bool
		detail   string
		fix      string
		guests   bool // the "kvm guests: not tested" line follows
	}{{
		name: "usable", accel: "auto",
		status: OK, detail: "/dev/kvm root:kvm 0660, usable by libvirt-qemu", guests: true,
	}, {
		name: "usable and required", accel: "kvm",
		status: OK, required: true, detail: "usable by libvirt-qemu", guests: true,
	}, {
		name: "usable but not used", accel: "tcg",
		status: OK, detail: "usable by libvirt-qemu (not used: --accel tcg)",
	}, {
		name: "absent with auto", accel: "auto", change: absent,
		status: Warn, detail: "/dev/kvm absent: guests will run under TCG (software emulation, slower)",
		fix: "sudo modprobe kvm_intel || sudo modprobe kvm_amd",
	}, {
		name: "absent with kvm", accel: "kvm", change: absent,
		status: Fail, required: true, detail: "/dev/kvm absent",
		fix: "sudo modprobe kvm_intel || sudo modprobe kvm_amd (with VT-x/AMD-V enabled in the firmware); or lab create --accel tcg",
	}, {
		name: "absent with tcg", accel: "tcg", change: absent,
		status: OK, detail: "/dev/kvm absent (not needed: --accel tcg)",
	}, {
		name: "empty accel means auto", accel: "", change: absent,
		status: Warn, detail: "guests will run under TCG",
		fix: "sudo modprobe",
	}, {
		name: "wrong group and mode", accel: "auto",
		change: func(h *fakeHost) { h.files[KVMDevice] = dev(0o600, "root", "root") },
		status: Warn, detail: "/dev/kvm root:root 0600 is not readable and writable by libvirt-qemu (groups kvm,libvirt-qemu)",
		fix: "sudo chgrp kvm /dev/kvm && sudo chmod g+rw /dev/kvm",
	}, {
		name: "group read-only", accel: "kvm",
		change: func(h *fakeHost) { h.files[KVMDevice] = dev(0o640, "root", "kvm") },
		status: Fail, required: true, detail: "root:kvm 0640 is not readable and writable",
		fix: "sudo chmod g+rw /dev/kvm; or lab create --accel tcg",
	}, {
		name: "qemu user not in group kvm", accel: "auto",
		change: func(h *fakeHost) { h.user.Groups = []string{"libvirt-qemu"} },
		status: Warn, detail: "not readable and writable by libvirt-qemu (groups libvirt-qemu)",
		fix: "sudo usermod -aG kvm libvirt-qemu",
	}, {
		name: "world-writable is usable", accel: "auto",
		change: func(h *fakeHost) {
			h.files[KVMDevice] = dev(0o666, "root", "root")
			h.user.Groups = nil
		},
		status: OK, detail: "root:root 0666, usable by libvirt-qemu", guests: true,
	}, {
		name: "qemu runs as root", accel: "auto",
		change: func(h *fakeHost) {
			h.files[KVMDevice] = dev(0o600, "root", "root")
			h.user = User{Name: "root", Root: true}
		},
		status: OK, detail: "usable by root", guests: true,
	}, {
		name: "qemu user unknown", accel: "auto",
		change: func(h *fakeHost) { h.userErr = errors.New(`looking up the qemu user "qemu": unknown user qemu`) },
		status: Warn, detail: "cannot tell who qemu runs as: looking up the qemu user",
		fix: "sudo lab doctor",
	}, {
		name: "not a device", accel: "auto",
		change: func(h *fakeHost) { h.files[KVMDevice] = FileStat{Mode: 0o666} },
		status: Warn, detail: "/dev/kvm is not a character device",
		fix: "sudo modprobe",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, req := newFakeHost(), story()
			req.Accel = tt.accel
			if tt.change != nil {
				tt.change(h)
			}
			want(t, check(t, h, req, "kvm device"), tt.status, tt.required, tt.detail, tt.fix)
			guests := checks(t, h, req, "kvm guests")
			if !tt.guests {
				if len(guests) != 0 {
					t.Errorf("unexpected %+v", guests)
				}
				return
			}
			if len(guests) != 1 {
				t.Fatalf("want one kvm guests line, got %+v", guests)
			}
			if tt.accel == "kvm" {
				want(t, guests[0], Fail, true, "KVM present but guests do not boot", "lab create --accel tcg")
				return
			}
			want(t, guests[0], Warn, false, "KVM present but guests do not boot (no kernel output in 40s) — using TCG", "nothing to do: --accel auto uses TCG")
		})
	}
}

// TestKVMGuests covers the self-test's line: a guest that boots, one that
// does not (a warning with auto, a failure with kvm), a test that cannot
// run, and no test at all.
func TestKVMGuests(t *testing.T) {
	booted := func(context.Context) (accel.Result, error) {
		return accel.Result{Accel: accel.KVM, Reason: "a guest booted under KVM in 3s: using kvm"}, nil
	}
	tests := []struct {
		name     string
		accel    string
		guests   func(context.Context) (accel.Result, error)
		status   Verdict
		required bool
		detail   string
		fix      string
	}{
		{name: "boots", accel: "auto", guests: booted, status: OK, detail: "a guest booted under KVM in 3s: using kvm"},
		{name: "boots, required", accel: "kvm", guests: booted, status: OK, required: true, detail: "booted"},
		{name: "does not boot, required", accel: "kvm", status: Fail, required: true,
			detail: "KVM present but guests do not boot", fix: "lab create --accel tcg (or --accel auto, which picks TCG here)"},
		{name: "cannot test", accel: "auto", status: Warn,
			guests: func(context.Context) (accel.Result, error) { return accel.Result{}, errors.New("no base image") },
			detail: "self-test could not run: no base image", fix: "sudo lab doctor"},
		{name: "not tested", accel: "auto", guests: nil, status: Warn, detail: "not tested", fix: "lab create --accel tcg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, req := newFakeHost(), story()
			req.Accel = tt.accel
			if tt.guests != nil || tt.name == "not tested" {
				h.guests = tt.guests
			}
			want(t, check(t, h, req, "kvm guests"), tt.status, tt.required, tt.detail, tt.fix)
		})
	}
}
