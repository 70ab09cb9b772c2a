// Package accel chooses the accelerator lab guests run under. A usable
// /dev/kvm is not enough: on some hosts (nested virtualisation, these build
// machines) KVM accepts a guest and then runs nothing. So the choice comes
// from a self-test that boots the base image briefly under KVM and reads its
// serial console: a guest whose kernel gets to userspace means KVM works,
// anything else means TCG, and the result says why.
//
// Choose is the one place --accel auto is decided (lab create), Verdict
// the same answer for lab doctor; both take every fact of the host they
// use as a parameter, so tests run them on virttest's fake daemon.
package accel

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Accelerators as --accel spells them.
const (
	KVM = "kvm"
	TCG = "tcg"
)

// Stage is how far a guest's boot got, as its console shows it.
type Stage int

// Boot stages in order. StageBooted is progress enough: the kernel has
// finished its own start and runs the first userspace program.
const (
	StageNothing       Stage = iota // not a line from the kernel
	StageKernelStarted              // "Linux version …"
	StageBooted                     // the kernel ran init (initramfs or root)
)

func (s Stage) String() string {
	switch s {
	case StageKernelStarted:
		return "kernel started"
	case StageBooted:
		return "kernel booted to userspace"
	}
	return "no kernel output"
}

// markers are console lines that show a stage, the earliest stage first.
// Later lines of the boot count too, in case a kernel logs quietly.
var markers = []struct {
	stage Stage
	text  string
}{
	{StageKernelStarted, "Linux version "},
	{StageBooted, "Run /init as init process"},
	{StageBooted, "Run /sbin/init as init process"},
	{StageBooted, "Freeing unused kernel image"},
	{StageBooted, "Loading, please wait"}, // Debian's initramfs
	{StageBooted, "systemd[1]:"},
	{StageBooted, "Welcome to "},
}

// Progress returns the furthest stage that console shows.
func Progress(console []byte) Stage {
	best := StageNothing
	for _, m := range markers {
		if m.stage > best && bytes.Contains(console, []byte(m.text)) {
			best = m.stage
		}
	}
	return best
}

// Outcome is what a boot test under KVM saw when it ended.
type Outcome struct {
	Console []byte        // the serial console, from the first byte
	Ended   string        // why the probe stopped early: "" when it ran until it booted or timed out
	Waited  time.Duration // how long the probe ran
}

// Result is the accelerator chosen and why.
type Result struct {
	Accel  string `json:"accel"`  // KVM or TCG
	Reason string `json:"reason"` // one line for the user
	// Stage is the furthest boot stage seen under KVM.
	Stage string `json:"stage,omitempty"`
	// Console is the end of the probe's console, the evidence.
	Console string `json:"console,omitempty"`
	// MSRWorkaround is set when the host CPU could only be passed through
	// with arch-capabilities (MSR 0x10a) disabled, as lab domains have it.
	MSRWorkaround bool          `json:"msr_workaround,omitempty"`
	Took          time.Duration `json:"took"`
	Tested        time.Time     `json:"tested"`
	// Key names the host and image the result is for (see Cache).
	Key string `json:"key,omitempty"`
}

// consoleTail is how much of the console a Result keeps.
const consoleTail = 800

// Decide turns what a KVM boot test saw into the accelerator to use.
func Decide(o Outcome) Result {
	stage := Progress(o.Console)
	r := Result{Stage: stage.String(), Console: tail(o.Console, consoleTail), Took: o.Waited}
	secs := o.Waited.Round(time.Second)
	switch {
	case stage >= StageBooted:
		r.Accel = KVM
		r.Reason = fmt.Sprintf("a guest booted under KVM in %s: using kvm", secs)
	case o.Ended != "":
		r.Accel = TCG
		r.Reason = fmt.Sprintf("KVM present but guests do not boot (%s after %s; %s) — using TCG", o.Ended, secs, stage)
	case stage == StageKernelStarted:
		r.Accel = TCG
		r.Reason = fmt.Sprintf("KVM present but guests do not boot (the kernel started and stalled for %s) — using TCG", secs)
	default:
		r.Accel = TCG
		r.Reason = fmt.Sprintf("KVM present but guests do not boot (no kernel output in %s) — using TCG", secs)
	}
	return r
}

// IsMSRFailure reports whether a domain start failed on the host-passthrough
// CPU's arch-capabilities MSR, which some KVM hosts refuse to set.
func IsMSRFailure(err error) bool {
	return err != nil && strings.Contains(err.Error(), "MSR 0x10a")
}

// tail returns the last n bytes of b as text, starting at a line.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return strings.ToValidUTF8(string(b), "?")
}
