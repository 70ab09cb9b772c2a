package doctor

import (
	"context"
	"fmt"
	"time"
)

// probeTimeout bounds each check, so a daemon that accepts connections but
// never answers cannot hang the doctor.
const probeTimeout = 10 * time.Second

// kvmTimeout bounds the KVM check, which boots a guest (accel.DefaultTimeout
// and the time to start and stop it).
const kvmTimeout = 90 * time.Second

// Run checks the host against what the lab needs and returns one Check per
// line of the report. It never fails: what a probe cannot learn becomes a
// failed or warning check with its error as the detail.
func Run(ctx context.Context, p Lookups, req Requirements) Checkup {
	steps := []struct {
		check   func(context.Context, Lookups, Requirements) []Check
		timeout time.Duration
	}{
		{checkLibvirt, probeTimeout},
		{checkQEMU, probeTimeout},
		{checkKVM, kvmTimeout},
		{checkMemory, probeTimeout},
		{checkDisks, probeTimeout},
		{checkBaseImage, probeTimeout},
		{checkEtcd, probeTimeout},
		{checkImageTools, probeTimeout},
	}
	if req.Remote {
		steps = append(steps[:0], []struct {
			check   func(context.Context, Lookups, Requirements) []Check
			timeout time.Duration
		}{
			{checkLibvirt, probeTimeout},
			{checkRemoteHost, probeTimeout},
			{checkRemoteKVM, kvmTimeout},
			{checkBaseImage, probeTimeout},
			{checkEtcd, probeTimeout},
			{checkImageTools, probeTimeout},
		}...)
	}
	var r Checkup
	for _, step := range steps {
		cctx, cancel := context.WithTimeout(ctx, step.timeout)
		r.Checks = append(r.Checks, step.check(cctx, p, req)...)
		cancel()
	}
	return r
}

func ok(name, detail string, required bool) Check {
	return Check{Name: name, Verdict: OK, Detail: detail, Required: required}
}

func warn(name, detail, fix string, required bool) Check {
	return Check{Name: name, Verdict: Warn, Detail: detail, Fix: fix, Required: required}
}

func fail(name, detail, fix string, required bool) Check {
	return Check{Name: name, Verdict: Fail, Detail: detail, Fix: fix, Required: required}
}

// aptInstall is the command that installs Debian/Ubuntu packages the way
// the setup script does.
func aptInstall(pkgs ...string) string {
	cmd := "sudo apt-get install -y --no-install-recommends"
	for _, p := range pkgs {
		cmd += " " + p
	}
	return cmd
}

// mib formats bytes as whole MiB, the unit of --memory.
func mib(n uint64) string { return fmt.Sprintf("%d MiB", n>>20) }
