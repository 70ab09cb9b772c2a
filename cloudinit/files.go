package cloudinit

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// EncodingBase64 marks File content as base64, for binary files.
const EncodingBase64 = "b64"

// File is a write_files entry.
type File struct {
	Path    string
	Content string
	// Encoding is empty for text or EncodingBase64.
	Encoding string
	// Owner is "user:group"; empty means root:root.
	Owner string
	// Permissions are written as an octal string ("0600"); zero means
	// cloud-init's default, 0644.
	Permissions fs.FileMode
	Append      bool
	// Defer writes the file in the final stage, after users exist, which an
	// Owner other than root needs.
	Defer bool
}

type fileWire struct {
	Path        string `yaml:"path"`
	Content     string `yaml:"content,omitempty"`
	Encoding    string `yaml:"encoding,omitempty"`
	Owner       string `yaml:"owner,omitempty"`
	Permissions string `yaml:"permissions,omitempty"`
	Append      bool   `yaml:"append,omitempty"`
	Defer       bool   `yaml:"defer,omitempty"`
}

// MarshalYAML writes the permissions as a quoted octal string: an unquoted
// 0600 is an integer to cloud-init's YAML 1.1 parser.
func (f File) MarshalYAML() (any, error) {
	w := fileWire{
		Path: f.Path, Content: f.Content, Encoding: f.Encoding, Owner: f.Owner,
		Append: f.Append, Defer: f.Defer,
	}
	if f.Permissions != 0 {
		w.Permissions = fmt.Sprintf("%04o", uint32(f.Permissions.Perm()))
	}
	return w, nil
}

// UnmarshalYAML reads what MarshalYAML writes.
func (f *File) UnmarshalYAML(n *yaml.Node) error {
	var w fileWire
	if err := n.Decode(&w); err != nil {
		return err
	}
	*f = File{Path: w.Path, Content: w.Content, Encoding: w.Encoding, Owner: w.Owner, Append: w.Append, Defer: w.Defer}
	if w.Permissions != "" {
		p, err := strconv.ParseUint(w.Permissions, 8, 32)
		if err != nil {
			return fmt.Errorf("parsing permissions of %s: %w", w.Path, err)
		}
		f.Permissions = fs.FileMode(p)
	}
	return nil
}

func (f File) validate() error {
	if !isAbs(f.Path) {
		return fmt.Errorf("path %q is not absolute and clean", f.Path)
	}
	if f.Permissions&^fs.ModePerm != 0 {
		return fmt.Errorf("permissions %v of %s: only the 0777 bits are supported", f.Permissions, f.Path)
	}
	switch f.Encoding {
	case "", "text/plain", "b64", "base64", "gz", "gzip", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64":
	default:
		return fmt.Errorf("encoding %q of %s is not one cloud-init knows", f.Encoding, f.Path)
	}
	return nil
}

// Mount is a mounts entry, one /etc/fstab line.
type Mount struct {
	// Device is a device path such as /dev/vdb. cloud-init 22.4 silently
	// drops LABEL= and UUID= specs (it looks for a block device by that
	// name), so they are rejected here.
	Device string
	Dir    string
	// Type defaults to auto.
	Type string
	// Options default to "defaults,nofail": nofail keeps a missing disk from
	// blocking boot, and a unit that needs the mount (RequiresMountsFor)
	// still fails without it.
	Options string
	Freq    int
	PassNo  int
}

// DefaultMountOptions are a Mount's options when it names none.
const DefaultMountOptions = "defaults,nofail"

// MarshalYAML writes all six fstab fields, so cloud-init's own defaults
// (which add _netdev) never apply.
func (m Mount) MarshalYAML() (any, error) {
	typ, opts := m.Type, m.Options
	if typ == "" {
		typ = "auto"
	}
	if opts == "" {
		opts = DefaultMountOptions
	}
	return []string{m.Device, m.Dir, typ, opts, strconv.Itoa(m.Freq), strconv.Itoa(m.PassNo)}, nil
}

// UnmarshalYAML reads what MarshalYAML writes.
func (m *Mount) UnmarshalYAML(n *yaml.Node) error {
	var f []string
	if err := n.Decode(&f); err != nil {
		return err
	}
	if len(f) != 6 {
		return fmt.Errorf("mount entry has %d fields, want 6", len(f))
	}
	freq, err1 := strconv.Atoi(f[4])
	pass, err2 := strconv.Atoi(f[5])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("parsing mount entry for %s: %w", f[1], err)
	}
	*m = Mount{Device: f[0], Dir: f[1], Type: f[2], Options: f[3], Freq: freq, PassNo: pass}
	return nil
}

func (m Mount) validate() error {
	if !strings.HasPrefix(m.Device, "/") {
		return fmt.Errorf("device %q is not a path (cloud-init 22.4 drops LABEL= and UUID= mounts)", m.Device)
	}
	if !isAbs(m.Dir) {
		return fmt.Errorf("mount point %q is not absolute and clean", m.Dir)
	}
	for _, f := range []string{m.Device, m.Dir, m.Type, m.Options} {
		if strings.ContainsAny(f, " \t\n") {
			return fmt.Errorf("field %q contains white space", f)
		}
	}
	return nil
}
