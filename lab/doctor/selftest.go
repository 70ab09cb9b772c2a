package doctor

import (
	"context"
	"fmt"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab/accel"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/progress"
)

// KVMSelfTest returns the KVMGuests probe for the host behind
// req.ConnectURI: it connects (virt.Dial; over its own tunnel for a remote
// URI) and asks accel.Verdict afresh, so the doctor's line is a new test
// and the next --accel auto uses it (cached under cacheDir). image
// resolves the base image to boot; a remote host is judged by its domain
// capabilities and needs none.
func KVMSelfTest(req Requirements, cacheDir string, status *progress.Printer, image func() (*images.Image, error)) func(ctx context.Context) (accel.Result, error) {
	c := accel.Choice{CacheDir: cacheDir, Connect: req.ConnectURI, Remote: req.Remote, Progress: status}
	return kvmSelfTest(c, image, virt.Dial)
}

// kvmSelfTest is KVMSelfTest connecting with dial.
func kvmSelfTest(c accel.Choice, image func() (*images.Image, error), dial func(context.Context, string) (*virt.Provider, error)) func(ctx context.Context) (accel.Result, error) {
	return func(ctx context.Context) (accel.Result, error) {
		c.Want, c.Fresh = accel.Auto, true
		if !c.Remote {
			img, err := image()
			if err != nil {
				return accel.Result{}, fmt.Errorf("no base image to boot: %w", err)
			}
			c.Image = img
		}
		p, err := dial(ctx, c.Connect)
		if err != nil {
			return accel.Result{}, err
		}
		defer p.Close()
		c.Provider = p
		r, _, err := accel.Verdict(ctx, c)
		return r, err
	}
}
