package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/kthw-lab/lab/lab/accel"
)

// KVMDevice is the device qemu opens for hardware virtualisation.
const KVMDevice = accel.Device

// Accelerators as --accel spells them.
const (
	accelKVM = accel.KVM
	accelTCG = accel.TCG
)

const modprobeKVM = "sudo modprobe kvm_intel || sudo modprobe kvm_amd (with VT-x/AMD-V enabled in the firmware)"

// checkKVM reports whether /dev/kvm exists and the qemu user may open it,
// and, where KVM would be used, that booting a guest under it is not tested.
// How much a problem matters depends on --accel: required with kvm, a
// warning with auto, nothing with tcg.
func checkKVM(ctx context.Context, p Lookups, req Requirements) []Check {
	const name = "kvm device"
	want := or(req.Accel, accel.Auto)
	required := want == accelKVM
	// problem is the check for a /dev/kvm that cannot be used.
	problem := func(detail, fix string) []Check {
		switch want {
		case accelTCG:
			return []Check{ok(name, detail+" (not needed: --accel tcg)", false)}
		case accelKVM:
			return []Check{fail(name, detail, fix+"; or lab create --accel tcg", true)}
		}
		return []Check{warn(name, detail+": guests will run under TCG (software emulation, slower)", fix, false)}
	}

	st, err := p.Stat(KVMDevice)
	if errors.Is(err, fs.ErrNotExist) {
		return problem(KVMDevice+" absent", modprobeKVM)
	}
	if err != nil {
		return problem(fmt.Sprintf("%s: %v", KVMDevice, err), modprobeKVM)
	}
	if st.Mode.Type() != fs.ModeDevice|fs.ModeCharDevice {
		return problem(KVMDevice+" is not a character device", modprobeKVM)
	}
	user, err := p.QEMUUser()
	if err != nil {
		return problem(fmt.Sprintf("%s %s: cannot tell who qemu runs as: %v", KVMDevice, describe(st), err), "sudo lab doctor")
	}
	if fix := kvmFix(st, user); fix != "" {
		return problem(fmt.Sprintf("%s %s is not readable and writable by %s (groups %s)",
			KVMDevice, describe(st), user.Name, strings.Join(user.Groups, ",")), fix)
	}
	detail := fmt.Sprintf("%s %s, usable by %s", KVMDevice, describe(st), user.Name)
	if want == accelTCG {
		return []Check{ok(name, detail+" (not used: --accel tcg)", false)}
	}
	return []Check{ok(name, detail, required), checkKVMGuests(ctx, p, required)}
}

// checkKVMGuests reports the KVM self-test: whether a guest boots under
// KVM here, which a usable /dev/kvm does not promise. Under auto a guest
// that does not boot is a warning (lab uses TCG), under kvm a failure.
func checkKVMGuests(ctx context.Context, p Lookups, required bool) Check {
	const name = "kvm guests"
	if p.KVMGuests == nil {
		return warn(name, "not tested; where guests hang under KVM, use TCG", "lab create --accel tcg", false)
	}
	r, err := p.KVMGuests(ctx)
	switch {
	case err != nil:
		return warn(name, fmt.Sprintf("self-test could not run: %v", err), "sudo lab doctor (with libvirt running and a base image)", required)
	case r.Accel == accelKVM:
		return ok(name, r.Reason, required)
	case required:
		return fail(name, r.Reason, "lab create --accel tcg (or --accel auto, which picks TCG here)", true)
	}
	return warn(name, r.Reason, "nothing to do: --accel auto uses TCG (slower); KVM needs a host whose KVM runs guests (nested virtualisation enabled)", false)
}

// kvmFix returns the command that lets user open the device read-write, or
// "" when it already can.
func kvmFix(st FileStat, user User) string {
	const rw = 0o6
	perm := st.Mode.Perm()
	switch {
	case user.Root,
		st.Owner == user.Name && perm>>6&rw == rw,
		slices.Contains(user.Groups, st.Group) && perm>>3&rw == rw,
		perm&rw == rw:
		return ""
	}
	var fix []string
	if st.Group != "kvm" {
		fix = append(fix, "sudo chgrp kvm "+KVMDevice)
	}
	if perm>>3&rw != rw {
		fix = append(fix, "sudo chmod g+rw "+KVMDevice)
	}
	if !slices.Contains(user.Groups, "kvm") {
		fix = append(fix, "sudo usermod -aG kvm "+user.Name)
	}
	return strings.Join(fix, " && ")
}

// describe formats owner, group and mode as ls shows them: root:kvm 0660.
func describe(st FileStat) string {
	return fmt.Sprintf("%s:%s %04o", st.Owner, st.Group, st.Mode.Perm())
}
