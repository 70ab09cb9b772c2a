package doctor

import (
	"context"
	"fmt"
	"time"
)

// probeTimeout bounds each check, so a daemon that accepts connections but
// never answers cannot hang the doctor.
const probeTimeout = 10 * time.Second

// Run checks the host against what the lab needs and returns one Check per
// line of the report. It never fails: what a probe cannot learn becomes a
// failed or warning check with its error as the detail.
func Run(ctx context.Context, p Probes, req Requirements) Report {
	steps := []func(context.Context, Probes, Requirements) []Check{
		checkLibvirt,
		checkQEMU,
		checkKVM,
		checkMemory,
		checkDisks,
		checkBaseImage,
		checkEtcd,
		checkImageTools,
	}
	var r Report
	for _, step := range steps {
		cctx, cancel := context.WithTimeout(ctx, probeTimeout)
		r.Checks = append(r.Checks, step(cctx, p, req)...)
		cancel()
	}
	return r
}

func ok(name, detail string, required bool) Check {
	return Check{Name: name, Status: OK, Detail: detail, Required: required}
}

func warn(name, detail, fix string, required bool) Check {
	return Check{Name: name, Status: Warn, Detail: detail, Fix: fix, Required: required}
}

func fail(name, detail, fix string, required bool) Check {
	return Check{Name: name, Status: Fail, Detail: detail, Fix: fix, Required: required}
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
