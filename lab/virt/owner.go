package virt

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// Namespace is the XML namespace of the lab's ownership marker, the element
// <lab:lab name="LAB" node="NODE"/> inside a network's or domain's <metadata>.
const Namespace = "https://github.com/kthw-lab/lab/ns/1"

// marker is the ownership marker read from an object's metadata.
type marker struct {
	Lab  string // the lab that created the object
	Node string // the node a domain belongs to; empty on networks
}

// markerXML writes the marker with the "lab" prefix, as libvirt prints
// metadata back; encoding/xml would otherwise use a default namespace.
type markerXML struct {
	XMLName xml.Name `xml:"lab:lab"`
	NS      string   `xml:"xmlns:lab,attr"`
	Name    string   `xml:"name,attr"`
	Node    string   `xml:"node,attr,omitempty"`
}

// metadataXML returns the inner XML of a <metadata> element marking an object
// as owned by lab (and, for domains, node).
func metadataXML(lab, node string) string {
	b, err := xml.Marshal(markerXML{NS: Namespace, Name: lab, Node: node})
	if err != nil {
		// Only strings are marshalled; encoding/xml escapes them.
		panic("virt: marshalling the ownership marker: " + err.Error())
	}
	return string(b)
}

// parseMarker finds the lab's marker among the elements of a <metadata>
// element's inner XML, which may hold other applications' elements too.
func parseMarker(inner string) (marker, bool) {
	d := xml.NewDecoder(strings.NewReader(inner))
	for {
		tok, err := d.Token()
		if err != nil { // io.EOF or malformed metadata: no marker
			return marker{}, false
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Space != Namespace || se.Name.Local != "lab" {
			continue
		}
		var m marker
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "name":
				m.Lab = a.Value
			case "node":
				m.Node = a.Value
			}
		}
		return m, m.Lab != ""
	}
}

// Owned reports whether name carries the lab's name prefix ("kthw-…"). The
// prefix alone proves nothing: a pool is the lab's by its UUID (PoolUUID),
// and a volume when it also lies in such a pool (and, for destroy, is
// recorded in the lab's state or lies in the lab's own directory).
func Owned(name, lab string) bool {
	return lab != "" && strings.HasPrefix(name, lab+"-") && len(name) > len(lab)+1
}

// ownerText describes who owns an object for an error message.
func ownerText(m marker, ok bool) string {
	if !ok {
		return "it has no lab metadata"
	}
	return fmt.Sprintf("it belongs to lab %q", m.Lab)
}

// poolNamespace is the name space of the UUIDs the lab gives its storage
// pools (UUID version 5 under Namespace).
var poolNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte(Namespace))

// PoolUUID is the UUID the lab gives its storage pool name of lab: a
// version-5 UUID of the lab's namespace, the lab and the pool name. Pools
// carry no metadata, so this UUID is their ownership marker: a pool someone
// else defined gets a random UUID from libvirt and never this one.
func PoolUUID(lab, name string) string {
	return uuid.NewSHA1(poolNamespace, []byte("pool/"+lab+"/"+name)).String()
}

// poolOwner returns the lab whose marker a pool's UUID is, or "": the lab
// is a prefix of the pool's name ("kthw" of "kthw-ssd").
func poolOwner(name, id string) string {
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == '-' && PoolUUID(name[:i], name) == id {
			return name[:i]
		}
	}
	return ""
}

// NewUUID returns a random UUID for a network or domain the lab is about
// to define; recorded in the lab's state first, it tells a resumed create
// and destroy that an object of that name is the one this lab made.
func NewUUID() string { return uuid.NewString() }

// sameUUID compares UUIDs as libvirt prints them (lower case, dashed).
func sameUUID(a, b string) bool { return strings.EqualFold(a, b) }
