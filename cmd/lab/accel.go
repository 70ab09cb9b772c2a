package main

import (
	"github.com/kthw-lab/lab/lab/accel"
)

// accelChoice is what the accelerator choice and the doctor's self-test
// know of this run: where verdicts are cached, the URI, whether the host
// is remote, where progress goes.
func (g *globals) accelChoice() accel.Choice {
	return accel.Choice{CacheDir: g.CacheDir, Connect: g.Connect, Remote: g.host.Remote(), Status: g.status()}
}
