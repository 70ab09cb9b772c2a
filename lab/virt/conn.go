package virt

import (
	"errors"
	"io"

	"github.com/digitalocean/go-libvirt"
)

// conn is the part of libvirt the lab uses. *libvirt.Libvirt implements it
// against a real daemon; virttest.Fake implements it in memory.
type conn interface {
	ConnectListAllNetworks(needResults int32, flags libvirt.ConnectListAllNetworksFlags) ([]libvirt.Network, uint32, error)
	NetworkLookupByName(name string) (libvirt.Network, error)
	NetworkDefineXML(xml string) (libvirt.Network, error)
	NetworkCreate(net libvirt.Network) error
	NetworkDestroy(net libvirt.Network) error
	NetworkUndefine(net libvirt.Network) error
	NetworkGetXMLDesc(net libvirt.Network, flags uint32) (string, error)
	NetworkIsActive(net libvirt.Network) (int32, error)

	ConnectListAllStoragePools(needResults int32, flags libvirt.ConnectListAllStoragePoolsFlags) ([]libvirt.StoragePool, uint32, error)
	StoragePoolLookupByName(name string) (libvirt.StoragePool, error)
	StoragePoolDefineXML(xml string, flags uint32) (libvirt.StoragePool, error)
	StoragePoolBuild(pool libvirt.StoragePool, flags libvirt.StoragePoolBuildFlags) error
	StoragePoolCreate(pool libvirt.StoragePool, flags libvirt.StoragePoolCreateFlags) error
	StoragePoolDestroy(pool libvirt.StoragePool) error
	StoragePoolUndefine(pool libvirt.StoragePool) error
	StoragePoolGetXMLDesc(pool libvirt.StoragePool, flags libvirt.StorageXMLFlags) (string, error)
	StoragePoolIsActive(pool libvirt.StoragePool) (int32, error)
	StoragePoolRefresh(pool libvirt.StoragePool, flags uint32) error
	StoragePoolDelete(pool libvirt.StoragePool, flags libvirt.StoragePoolDeleteFlags) error

	StoragePoolListAllVolumes(pool libvirt.StoragePool, needResults int32, flags uint32) ([]libvirt.StorageVol, uint32, error)
	StorageVolLookupByName(pool libvirt.StoragePool, name string) (libvirt.StorageVol, error)
	StorageVolCreateXML(pool libvirt.StoragePool, xml string, flags libvirt.StorageVolCreateFlags) (libvirt.StorageVol, error)
	StorageVolDelete(vol libvirt.StorageVol, flags libvirt.StorageVolDeleteFlags) error
	StorageVolGetPath(vol libvirt.StorageVol) (string, error)
	StorageVolGetXMLDesc(vol libvirt.StorageVol, flags uint32) (string, error)
	StorageVolUpload(vol libvirt.StorageVol, r io.Reader, offset, length uint64, flags libvirt.StorageVolUploadFlags) error

	ConnectListAllDomains(needResults int32, flags libvirt.ConnectListAllDomainsFlags) ([]libvirt.Domain, uint32, error)
	DomainLookupByName(name string) (libvirt.Domain, error)
	DomainDefineXMLFlags(xml string, flags libvirt.DomainDefineFlags) (libvirt.Domain, error)
	DomainCreate(dom libvirt.Domain) error
	DomainDestroy(dom libvirt.Domain) error
	DomainUndefineFlags(dom libvirt.Domain, flags libvirt.DomainUndefineFlagsValues) error
	DomainGetState(dom libvirt.Domain, flags uint32) (state int32, reason int32, err error)
	DomainGetXMLDesc(dom libvirt.Domain, flags libvirt.DomainXMLFlags) (string, error)
	DomainSetBlockIOTune(dom libvirt.Domain, disk string, params []libvirt.TypedParam, flags uint32) error
}

var _ conn = (*libvirt.Libvirt)(nil)

// ErrNotOwned marks a refusal to change or adopt an object that exists but
// does not carry this lab's ownership marker.
var ErrNotOwned = errors.New("not owned by this lab")

// ErrConflict marks a refusal to create an object that would collide with an
// existing one: the same bridge, an overlapping subnet, the same pool path,
// an existing object of ours with a different definition.
var ErrConflict = errors.New("conflicts with an existing object")

// isNotFound reports whether err is libvirt's answer for a missing domain,
// network, storage pool or storage volume.
func isNotFound(err error) bool {
	return hasCode(err, libvirt.ErrNoDomain, libvirt.ErrNoNetwork, libvirt.ErrNoStoragePool, libvirt.ErrNoStorageVol)
}

// hasCode reports whether err wraps a libvirt.Error with one of codes.
func hasCode(err error, codes ...libvirt.ErrorNumber) bool {
	var lerr libvirt.Error
	if !errors.As(err, &lerr) {
		return false
	}
	for _, c := range codes {
		if lerr.Code == uint32(c) {
			return true
		}
	}
	return false
}
