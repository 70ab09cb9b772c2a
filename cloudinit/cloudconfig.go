package cloudinit

import (
	"errors"
	"fmt"
	"path"
)

// Header is the first line cloud-init requires of a cloud-config user-data.
const Header = "#cloud-config\n"

// CloudConfig is the subset of cloud-config that a lab node uses, in the
// order it is rendered. Tri-state settings are pointers so that false is
// written out rather than left to the distro's default.
type CloudConfig struct {
	Hostname       string `yaml:"hostname,omitempty"`
	FQDN           string `yaml:"fqdn,omitempty"`
	ManageEtcHosts bool   `yaml:"manage_etc_hosts,omitempty"`
	// Locale "C.UTF-8" needs no locale-gen (glibc carries it), but cloud-init
	// still runs update-locale, which only the locales package ships. Empty
	// means the distro default (en_US.UTF-8 on Debian), which must be
	// generated.
	Locale string `yaml:"locale,omitempty"`
	Users  []User `yaml:"users,omitempty"`

	SSHPasswordAuth *bool `yaml:"ssh_pwauth,omitempty"`
	DisableRoot     *bool `yaml:"disable_root,omitempty"`
	// SSHDeleteKeys removes the host keys baked into the image.
	SSHDeleteKeys *bool `yaml:"ssh_deletekeys,omitempty"`
	// SSHKeys pins the host keys. When it is set cloud-init generates no
	// other key, so SSHGenKeyTypes is not needed to keep unpinned keys away
	// (and an empty list fails cloud-init's schema, which wants one item).
	SSHKeys        *SSHHostKeys `yaml:"ssh_keys,omitempty"`
	SSHGenKeyTypes []string     `yaml:"ssh_genkeytypes,omitempty"`

	// FSSetup makes file systems; Mount.Commands mounts them (runcmd).
	FSSetup []Filesystem `yaml:"fs_setup,omitempty"`

	WriteFiles []File    `yaml:"write_files,omitempty"`
	BootCmd    []Command `yaml:"bootcmd,omitempty"`
	RunCmd     []Command `yaml:"runcmd,omitempty"`

	FinalMessage string `yaml:"final_message,omitempty"`
}

// User is an entry of users. Listing users replaces the image's default
// user (debian), which the lab does not want.
type User struct {
	Name string `yaml:"name"`
	// Sudo is a sudoers rule such as "ALL=(ALL) NOPASSWD:ALL".
	Sudo              string   `yaml:"sudo,omitempty"`
	Shell             string   `yaml:"shell,omitempty"`
	Groups            []string `yaml:"groups,omitempty"`
	SSHAuthorizedKeys []string `yaml:"ssh_authorized_keys,omitempty"`
	// LockPasswd defaults to true in cloud-init.
	LockPasswd *bool `yaml:"lock_passwd,omitempty"`
}

// SSHHostKeys are host keys in OpenSSH format, written to
// /etc/ssh/ssh_host_ed25519_key{,.pub}.
type SSHHostKeys struct {
	ED25519Private string `yaml:"ed25519_private,omitempty"`
	ED25519Public  string `yaml:"ed25519_public,omitempty"`
}

// Filesystem is an fs_setup entry: a file system made on a device unless a
// matching one is already there.
type Filesystem struct {
	Label      string `yaml:"label,omitempty"`
	Filesystem string `yaml:"filesystem"`
	Device     string `yaml:"device"`
	// Partition "auto" on a whole disk makes the file system on the raw
	// device when it is blank and keeps an existing one with the same label
	// and type; "none" would format it again on every new instance.
	Partition string `yaml:"partition,omitempty"`
	// Overwrite destroys an existing matching file system.
	Overwrite bool     `yaml:"overwrite,omitempty"`
	ExtraOpts []string `yaml:"extra_opts,omitempty"`
}

// Marshal renders the user-data file: the #cloud-config header, then the
// document.
func (c CloudConfig) Marshal() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("rendering user-data: %w", err)
	}
	b, err := encodeYAML(c)
	if err != nil {
		return nil, fmt.Errorf("rendering user-data: %w", err)
	}
	return append([]byte(Header), b...), nil
}

// Validate checks what cloud-init would otherwise skip with only a warning
// in its log, or what its schema rejects.
func (c CloudConfig) Validate() error {
	var errs []error
	for i, u := range c.Users {
		if u.Name == "" {
			errs = append(errs, fmt.Errorf("users[%d]: name is empty", i))
		}
	}
	for i, f := range c.FSSetup {
		if err := f.validate(); err != nil {
			errs = append(errs, fmt.Errorf("fs_setup[%d]: %w", i, err))
		}
	}
	seen := make(map[string]bool)
	for i, f := range c.WriteFiles {
		if err := f.validate(); err != nil {
			errs = append(errs, fmt.Errorf("write_files[%d]: %w", i, err))
		}
		if seen[f.Path] && !f.Append {
			errs = append(errs, fmt.Errorf("write_files[%d]: %s is written twice", i, f.Path))
		}
		seen[f.Path] = true
	}
	for i, cmd := range c.BootCmd {
		if err := cmd.validate(); err != nil {
			errs = append(errs, fmt.Errorf("bootcmd[%d]: %w", i, err))
		}
	}
	for i, cmd := range c.RunCmd {
		if err := cmd.validate(); err != nil {
			errs = append(errs, fmt.Errorf("runcmd[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func (f Filesystem) validate() error {
	if f.Device == "" || f.Filesystem == "" {
		return errors.New("device and filesystem are required")
	}
	switch f.Partition {
	case "", "auto", "any", "none":
		return nil
	}
	for _, r := range f.Partition {
		if r < '0' || r > '9' {
			return fmt.Errorf("partition %q is not auto, any, none or a number", f.Partition)
		}
	}
	return nil
}

func isAbs(p string) bool { return path.IsAbs(p) && path.Clean(p) == p }
