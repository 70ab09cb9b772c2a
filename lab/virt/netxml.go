package virt

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// Network modes.
const (
	ModeIsolated = "isolated" // no <forward>: guests reach each other and the host only
	ModeNAT      = "nat"      // <forward mode='nat'/>: guests also reach outside through the host
)

// NetworkSpec is a libvirt network for one lab: a Linux bridge holding the
// gateway address. Guests have static addresses, so there is no DHCP range.
type NetworkSpec struct {
	Name    string     // libvirt network name
	Bridge  string     // Linux bridge name, at most 15 bytes
	Gateway netip.Addr // the host's address on the bridge, e.g. 192.168.199.1
	Prefix  int        // subnet prefix length, e.g. 24
	Mode    string     // ModeIsolated or ModeNAT
	Lab     string     // owner, written into <metadata>
	// UUID, when set, is the network's UUID, recorded in the lab's state
	// before the network is defined; an existing network of that name is
	// then adopted only when it has this UUID.
	UUID string
}

// Subnet returns the network's subnet.
func (s NetworkSpec) Subnet() netip.Prefix {
	return netip.PrefixFrom(s.Gateway, s.Prefix).Masked()
}

func (s NetworkSpec) validate() error {
	switch {
	case !validName(s.Name):
		return fmt.Errorf("invalid network name %q", s.Name)
	case s.Lab == "":
		return fmt.Errorf("network %q: no lab name", s.Name)
	case s.Bridge == "" || len(s.Bridge) > 15 || strings.ContainsAny(s.Bridge, "/ \t\n:"):
		return fmt.Errorf("network %q: invalid bridge name %q (1 to 15 bytes, no '/', ':' or spaces)", s.Name, s.Bridge)
	case !s.Gateway.Is4():
		return fmt.Errorf("network %q: gateway %v is not an IPv4 address", s.Name, s.Gateway)
	case s.Prefix < 8 || s.Prefix > 30:
		return fmt.Errorf("network %q: prefix /%d out of range /8../30", s.Name, s.Prefix)
	case s.Gateway == s.Subnet().Addr():
		return fmt.Errorf("network %q: gateway %v is the subnet's network address", s.Name, s.Gateway)
	case s.Mode != ModeIsolated && s.Mode != ModeNAT:
		return fmt.Errorf("network %q: mode %q is neither %q nor %q", s.Name, s.Mode, ModeIsolated, ModeNAT)
	}
	return nil
}

// NetworkXML returns the libvirt network definition for s.
func NetworkXML(s NetworkSpec) (string, error) {
	def, err := networkDef(s)
	if err != nil {
		return "", err
	}
	return def.Marshal()
}

func networkDef(s NetworkSpec) (*libvirtxml.Network, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	def := &libvirtxml.Network{
		Name:     s.Name,
		UUID:     s.UUID,
		Metadata: &libvirtxml.NetworkMetadata{XML: metadataXML(s.Lab, "")},
		Bridge:   &libvirtxml.NetworkBridge{Name: s.Bridge, STP: "on", Delay: "0"},
		IPs:      []libvirtxml.NetworkIP{{Address: s.Gateway.String(), Prefix: uint(s.Prefix)}},
	}
	if s.Mode == ModeNAT {
		def.Forward = &libvirtxml.NetworkForward{Mode: "nat"}
	}
	return def, nil
}

// PoolSpec is a directory storage pool.
type PoolSpec struct {
	Name string // libvirt pool name; must start with the lab's name and a dash
	Path string // absolute directory, created by the pool build when missing
	Lab  string // owner
}

// poolMode lets qemu (running as libvirt-qemu) reach the volumes libvirt
// relabels for it, without letting other users list the directory.
const poolMode = "0711"

func (s PoolSpec) validate() error {
	switch {
	case !validName(s.Name):
		return fmt.Errorf("invalid storage pool name %q", s.Name)
	case !Owned(s.Name, s.Lab):
		return fmt.Errorf("storage pool %q: name must start with the lab name %q and a dash", s.Name, s.Lab)
	case !strings.HasPrefix(s.Path, "/") || s.Path == "/":
		return fmt.Errorf("storage pool %q: path %q is not an absolute directory", s.Name, s.Path)
	}
	return nil
}

// PoolXML returns the libvirt storage pool definition for s.
func PoolXML(s PoolSpec) (string, error) {
	if err := s.validate(); err != nil {
		return "", err
	}
	def := &libvirtxml.StoragePool{
		Type: "dir",
		Name: s.Name,
		// The lab's marker: pools carry no metadata (see PoolUUID).
		UUID: PoolUUID(s.Lab, s.Name),
		Target: &libvirtxml.StoragePoolTarget{
			Path:        s.Path,
			Permissions: &libvirtxml.StoragePoolTargetPermissions{Mode: poolMode},
		},
	}
	return def.Marshal()
}

// Volume formats.
const (
	FormatQcow2 = "qcow2"
	FormatRaw   = "raw"
)

// VolumeSpec is a file volume in a directory pool: an OS overlay (qcow2 with
// a backing file), a data disk (raw sparse, so flushes reach the host's disk
// without a qcow2 metadata layer, or qcow2), or a seed ISO (raw, then
// uploaded).
type VolumeSpec struct {
	Name          string // file name in the pool; must start with the lab's name and a dash
	Lab           string // owner
	CapacityBytes uint64 // virtual size; 0 with a backing file means the backing file's size
	Format        string // FormatQcow2 or FormatRaw
	BackingPath   string // base image for a qcow2 overlay; empty for none
	BackingFormat string // format of BackingPath, FormatQcow2 when empty
	// Adopt lets CreateVolume take a volume of that name that exists: the
	// lab's state records it as the lab's own. Without it, an existing
	// volume is refused.
	Adopt bool
}

func (s VolumeSpec) validate() error {
	switch {
	case !validName(s.Name):
		return fmt.Errorf("invalid volume name %q", s.Name)
	case !Owned(s.Name, s.Lab):
		return fmt.Errorf("volume %q: name must start with the lab name %q and a dash", s.Name, s.Lab)
	case s.Format != FormatQcow2 && s.Format != FormatRaw:
		return fmt.Errorf("volume %q: format %q is neither %q nor %q", s.Name, s.Format, FormatQcow2, FormatRaw)
	case s.BackingPath != "" && s.Format != FormatQcow2:
		return fmt.Errorf("volume %q: a backing file needs format %q", s.Name, FormatQcow2)
	case s.BackingPath != "" && !strings.HasPrefix(s.BackingPath, "/"):
		return fmt.Errorf("volume %q: backing path %q is not absolute", s.Name, s.BackingPath)
	case s.BackingPath == "" && s.CapacityBytes == 0:
		return fmt.Errorf("volume %q: no capacity", s.Name)
	}
	return nil
}

func (s VolumeSpec) backingFormat() string {
	if s.BackingFormat == "" {
		return FormatQcow2
	}
	return s.BackingFormat
}

// VolumeXML returns the libvirt storage volume definition for s. Raw volumes
// are sparse: nothing is allocated up front.
func VolumeXML(s VolumeSpec) (string, error) {
	if err := s.validate(); err != nil {
		return "", err
	}
	def := &libvirtxml.StorageVolume{
		Name:   s.Name,
		Target: &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: s.Format}},
	}
	if s.CapacityBytes > 0 {
		def.Capacity = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: s.CapacityBytes}
		def.Allocation = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0}
	}
	if s.BackingPath != "" {
		def.BackingStore = &libvirtxml.StorageVolumeBackingStore{
			Path:   s.BackingPath,
			Format: &libvirtxml.StorageVolumeTargetFormat{Type: s.backingFormat()},
		}
	}
	return def.Marshal()
}

// validName accepts names libvirt and a file system both take.
func validName(name string) bool {
	return name != "" && len(name) <= 200 && !strings.ContainsAny(name, "/\x00\n") &&
		name != "." && name != ".." && strconv.Quote(name) == `"`+name+`"`
}
