package cloudinit

import (
	"fmt"
	"io/fs"
	"regexp"
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

// Mount is a file system to mount, one /etc/fstab line (see Commands).
type Mount struct {
	// Device is a device path such as /dev/vdb.
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

// fstabFields are m's six /etc/fstab fields, defaults filled in.
func (m Mount) fstabFields() []string {
	typ, opts := m.Type, m.Options
	if typ == "" {
		typ = "auto"
	}
	if opts == "" {
		opts = DefaultMountOptions
	}
	return []string{m.Device, m.Dir, typ, opts, strconv.Itoa(m.Freq), strconv.Itoa(m.PassNo)}
}

// mountWord is what a Mount field may hold to go into a shell line
// unquoted: paths, a file system type, comma-separated options.
var mountWord = regexp.MustCompile(`^[A-Za-z0-9._/+,=-]+$`)

// Commands returns runcmd entries that do what cloud-init's mounts module
// does for m, without the module and its daemon-reload (seconds under
// emulation): mount it now, failing the script if that fails, then add its
// /etc/fstab line for later boots. Mounting before the line is added keeps
// mount(8) from hinting at a daemon-reload; systemd reads the line at its
// next reload or boot.
func (m Mount) Commands() ([]Command, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	fields := m.fstabFields()
	for _, w := range fields {
		if !mountWord.MatchString(w) {
			return nil, fmt.Errorf("mount field %q holds a character a shell line cannot take unquoted", w)
		}
	}
	return []Command{
		Shell(fmt.Sprintf("mount -t %s -o %s %s %s || exit 1", fields[2], fields[3], m.Device, m.Dir)),
		Shell(fmt.Sprintf("echo '%s' >> /etc/fstab", strings.Join(fields, " "))),
	}, nil
}

func (m Mount) validate() error {
	if !strings.HasPrefix(m.Device, "/") {
		return fmt.Errorf("device %q is not a path", m.Device)
	}
	if !isAbs(m.Dir) {
		return fmt.Errorf("mount point %q is not absolute and clean", m.Dir)
	}
	return nil
}
