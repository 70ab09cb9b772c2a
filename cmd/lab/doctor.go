package main

import (
	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

func doctorCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check this host and print how to fix each problem",
		Description: `Checks, one line each, what a lab needs: the libvirt socket (and which daemon
answers), how libvirt confines qemu (AppArmor, SELinux), qemu, /dev/kvm and
whether the qemu user may open it, free memory and disk for a three-node lab,
the cached base image and etcd binaries. Every failure comes with the command
that fixes it. Exits 1 when a required check fails.

Where /dev/kvm is usable it boots the base image under KVM for up to 40 s and
reads the guest's console: on hosts where KVM is present but guests do not
boot (nested virtualisation without support, these build machines) it says so,
and --accel auto then uses TCG. The verdict is cached for 'lab create'.

With --connect qemu+ssh://..., libvirt is asked through the SSH tunnel and
what lives on that host (qemu, memory, the pools' disks) is left to a doctor
run there.`,
		Action: func(c *cli.Context) error {
			checkup := lab.Checkup(c.Context, g.host, lab.CheckupRequest{CacheDir: g.CacheDir, Lab: g.Lab, Progress: g.printer()})
			if g.json() {
				if err := g.printJSON(checkup); err != nil {
					return err
				}
			} else if err := checkup.Render(g.streams.out); err != nil {
				return err
			}
			if checkup.Failed() {
				return exitError{code: 1}
			}
			return nil
		},
	}
}
