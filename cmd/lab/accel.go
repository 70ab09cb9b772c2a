package main

import (
	"context"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/accel"
	"github.com/kthw-lab/lab/lab/tunnel"
	"github.com/kthw-lab/lab/lab/virt"
)

// chooseAccel turns --accel auto into kvm or tcg (accel.Choose), saying
// which and why.
func (g *globals) chooseAccel(ctx context.Context, p *virt.Provider, want string, img *images.Image) (string, error) {
	c := g.accelChoice()
	c.Want, c.Provider, c.Image = want, p, img
	return accel.Choose(ctx, c)
}

// accelChoice is what the accelerator choice and the doctor's self-test
// know of this run: where verdicts are cached, the URI, whether the host
// is remote, where progress goes.
func (g *globals) accelChoice() accel.Choice {
	return accel.Choice{CacheDir: g.CacheDir, Connect: g.Connect, Remote: tunnel.IsRemote(g.Connect), Status: g.status()}
}
