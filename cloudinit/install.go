package cloudinit

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
)

// SeedDevice is the guest's udev link to the seed ISO, by its label.
const SeedDevice = "/dev/disk/by-label/" + VolumeLabel

// Install is an extra seed file to install in the guest.
type Install struct {
	// Name is the file's name on the seed, a key of Seed.Extra or
	// Seed.ExtraFiles.
	Name string
	// SHA256 is the hex digest the file must have.
	SHA256 string
	// Dest is the absolute path to install it to.
	Dest string
	// Mode is the installed file's mode, such as 0o755.
	Mode fs.FileMode
}

// guestPath is what a path may hold to go into a shell line unquoted.
var guestPath = regexp.MustCompile(`^/[A-Za-z0-9._/+-]*$`)

// InstallCommands returns runcmd entries that mount the seed read-only at
// mountPoint, check each file's SHA-256 before installing it, and unmount.
// A failed mount or check ends the runcmd script with status 1, so
// nothing after it runs and cloud-init reports the boot as failed.
func InstallCommands(mountPoint string, files ...Install) ([]Command, error) {
	if !guestPath.MatchString(mountPoint) || !isAbs(mountPoint) {
		return nil, fmt.Errorf("seed mount point %q is not a plain absolute path", mountPoint)
	}
	if len(files) == 0 {
		return nil, errors.New("no files to install from the seed")
	}
	cmds := []Command{
		Exec("mkdir", "-p", mountPoint),
		Shell(fmt.Sprintf("mount -o ro %s %s || exit 1", SeedDevice, mountPoint)),
	}
	for _, f := range files {
		if err := f.validate(); err != nil {
			return nil, err
		}
		src := path.Join(mountPoint, f.Name)
		cmds = append(cmds, Shell(fmt.Sprintf(
			"echo '%s  %s' | sha256sum --check --strict --quiet - && install -m %04o %s %s || exit 1",
			f.SHA256, src, uint32(f.Mode.Perm()), src, f.Dest)))
	}
	return append(cmds, Exec("umount", mountPoint)), nil
}

func (f Install) validate() error {
	if err := ValidExtraName(f.Name); err != nil {
		return err
	}
	if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != 32 || f.SHA256 != hex.EncodeToString(b) {
		return fmt.Errorf("installing %s: %q is not a lower-case hex SHA-256", f.Name, f.SHA256)
	}
	if !guestPath.MatchString(f.Dest) || !isAbs(f.Dest) {
		return fmt.Errorf("installing %s: destination %q is not a plain absolute path", f.Name, f.Dest)
	}
	if f.Mode&^fs.ModePerm != 0 || f.Mode == 0 {
		return fmt.Errorf("installing %s: mode %v must be non-zero permission bits", f.Name, f.Mode)
	}
	return nil
}
