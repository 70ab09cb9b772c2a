package lab

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/kthw-lab/lab/lab/guest"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
)

// carried returns the lab binary to carry to the nodes, checked and
// hashed: path, or this program when path is "".
func carried(path string) (guest.Carried, error) {
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return guest.Carried{}, fmt.Errorf("finding the lab binary to carry to the nodes: %w", err)
		}
		path = exe
	}
	return guest.Carry(path)
}

// runProbe runs probe as root on node n with the carried lab binary, which
// it first uploads to guest.LabBinary unless the node has it already (same
// sha256), and returns what the probe printed.
func (l *Lab) runProbe(ctx context.Context, n spec.Node, bin guest.Carried, probe guest.FsyncProbe) (out string, err error) {
	err = l.withConn(ctx, n, func(c *labssh.Client) (err error) {
		out, err = runProbeOn(ctx, c, n, bin, probe)
		return err
	})
	return out, err
}

func runProbeOn(ctx context.Context, c *labssh.Client, n spec.Node, bin guest.Carried, probe guest.FsyncProbe) (string, error) {
	out, _, err := c.Run(ctx, guest.AsRoot(bin.CurrentScript()))
	if err != nil {
		return "", fmt.Errorf("checking %s on %s: %w", guest.LabBinary, n.Name, err)
	}
	if strings.TrimSpace(string(out)) != guest.Current {
		f, err := bin.Open()
		if err != nil {
			return "", err
		}
		_, _, err = c.RunInput(ctx, guest.AsRoot(bin.InstallScript()), f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("carrying %s to %s:%s: %w", bin.Path, n.Name, guest.LabBinary, err)
		}
	}
	out, _, err = c.Run(ctx, "sudo "+probe.Command())
	return string(out), err
}
