package accel

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/kthw-lab/lab/lab/virt"
)

// Running is a started boot test (*virt.Probe).
type Running interface {
	State() (virt.State, int32, error)
	Stop() error
}

// StartFunc starts a boot test whose serial console goes to console;
// (*virt.Provider).StartBootTest wrapped by ProviderStart.
type StartFunc func(ctx context.Context, s virt.BootTestSpec, console io.Writer) (Running, error)

// ProviderStart adapts a provider's StartBootTest to StartFunc.
func ProviderStart(p *virt.Provider) StartFunc {
	return func(ctx context.Context, s virt.BootTestSpec, console io.Writer) (Running, error) {
		return p.StartBootTest(ctx, s, console)
	}
}

// Options are a self-test's guest and bounds.
type Options struct {
	Start StartFunc
	// Boot and Disk are the base image as the lab boots it: kernel, initrd
	// and command line for direct kernel boot, or only the disk.
	Boot virt.Boot
	Disk string
	// Timeout bounds the boot under KVM; DefaultTimeout when zero. A
	// working KVM gets a kernel to userspace in a few seconds.
	Timeout time.Duration
	// Poll is how often the console and the domain are looked at; 250 ms
	// when zero.
	Poll time.Duration
	// Name is the probe's domain name; ProbeName() when empty.
	Name string
}

// Defaults of Options.
const (
	DefaultTimeout = 40 * time.Second
	// BootTestPrefix starts every self-test's domain name.
	BootTestPrefix = "lab-kvm-selftest-"
	// BootTestCmdline boots the kernel of a kernel-boot image to its root
	// file system, read-only, with the console on the serial port.
	BootTestCmdline = "root=/dev/vda ro console=ttyS0,115200n8 panic=-1"
)

// BootTestName is a self-test domain name of this run's own:
// lab-kvm-selftest-PID-RANDOM. Two runs at once (two labs, lab doctor
// while lab create tests) each boot and stop their own probe; the random
// part keeps processes of other PID namespaces (containers, remote callers
// of one daemon) apart.
func BootTestName() string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return fmt.Sprintf("%s%d-%s", BootTestPrefix, os.Getpid(), hex.EncodeToString(b[:]))
}

// SelfTest boots the image under KVM and decides from its console. It
// first passes the host CPU through as it is; when the host refuses that
// CPU's arch-capabilities MSR (0x10a) it says so and tries again with the
// MSR disabled, as lab domains have it. An error means the test itself
// could not run (the context ended); a guest that cannot start under KVM is
// a TCG result with the reason.
func SelfTest(ctx context.Context, o Options) (Result, error) {
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Poll == 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Name == "" {
		o.Name = BootTestName()
	}
	s := virt.BootTestSpec{Name: o.Name, Accel: virt.AccelKVM, MemoryMiB: 512, Boot: o.Boot, Disk: o.Disk, PlainPassthrough: true}
	began := time.Now()
	var console lockedBuffer
	probe, err := o.Start(ctx, s, &console)
	msr := false
	if IsMSRFailure(err) {
		msr = true
		s.PlainPassthrough = false
		probe, err = o.Start(ctx, s, &console)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("kvm self-test: %w", ctx.Err())
		}
		r := Decide(Outcome{Ended: "libvirt could not start it: " + err.Error(), Waited: time.Since(began)})
		r.MSRWorkaround = msr
		return r, nil
	}
	ended, err := watch(ctx, probe, &console, o)
	stopErr := probe.Stop()
	if err != nil {
		return Result{}, err
	}
	if stopErr != nil {
		return Result{}, fmt.Errorf("kvm self-test: %w", stopErr)
	}
	r := Decide(Outcome{Console: console.Bytes(), Ended: ended, Waited: time.Since(began)})
	r.MSRWorkaround = msr
	if msr {
		r.Reason += " (host-passthrough needed arch-capabilities disabled: failed to set MSR 0x10a)"
	}
	return r, nil
}

// watch waits until the console shows a booted kernel, the domain stops
// running, or the timeout. It returns why the probe ended early, if it did.
func watch(ctx context.Context, probe Running, console *lockedBuffer, o Options) (string, error) {
	deadline := time.NewTimer(o.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(o.Poll)
	defer tick.Stop()
	for {
		if Progress(console.Bytes()) >= StageBooted {
			return "", nil
		}
		st, reason, err := probe.State()
		if err != nil {
			return "", fmt.Errorf("kvm self-test: %w", err)
		}
		if st != virt.StateRunning && st != virt.StateBlocked {
			// qemu pauses a guest on a KVM internal error; shut off or
			// gone means it stopped on its own.
			return fmt.Sprintf("the guest went %s (reason %d)", st, reason), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("kvm self-test: %w", ctx.Err())
		case <-deadline.C:
			return "", nil
		case <-tick.C:
		}
	}
}

// lockedBuffer is a bytes.Buffer written by the console stream's goroutine
// and read by the watcher.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
