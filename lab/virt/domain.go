package virt

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// State is a domain's state as virsh prints it, or StateAbsent.
type State string

// Domain states.
const (
	StateAbsent      State = "absent" // no such domain
	StateNoState     State = "no state"
	StateRunning     State = "running"
	StateBlocked     State = "idle"
	StatePaused      State = "paused"
	StateShutdown    State = "in shutdown"
	StateShutOff     State = "shut off"
	StateCrashed     State = "crashed"
	StatePMSuspended State = "pmsuspended"
)

func stateOf(s libvirt.DomainState) State {
	switch s {
	case libvirt.DomainRunning:
		return StateRunning
	case libvirt.DomainBlocked:
		return StateBlocked
	case libvirt.DomainPaused:
		return StatePaused
	case libvirt.DomainShutdown:
		return StateShutdown
	case libvirt.DomainShutoff:
		return StateShutOff
	case libvirt.DomainCrashed:
		return StateCrashed
	case libvirt.DomainPmsuspended:
		return StatePMSuspended
	}
	return StateNoState
}

// DomainInfo describes one of a lab's domains.
type DomainInfo struct {
	Name  string
	Node  string // the node name from the ownership marker
	State State
}

// DefineDomain defines the lab's domain, or redefines it (effective at its
// next start) when it exists and is the lab's. It refuses (ErrNotOwned) a
// domain of that name that is not the lab's.
func (p *Provider) DefineDomain(ctx context.Context, s DomainSpec) error {
	def, err := domainDef(s)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("defining domain %q: %w", s.Name, err)
	}
	dom, err := p.c.DomainLookupByName(s.Name)
	switch {
	case err == nil:
		have, err := p.domainDef(dom)
		if err != nil {
			return err
		}
		m, ok := domainMarker(have)
		if !ok || m.Lab != s.Lab {
			return fmt.Errorf("defining domain %q: a domain of that name exists and %s; remove it with 'virsh destroy %s; virsh undefine %s' if it is not needed, or choose another --lab: %w",
				s.Name, ownerText(m, ok), s.Name, s.Name, ErrNotOwned)
		}
		if s.UUID != "" && !sameUUID(have.UUID, s.UUID) {
			return fmt.Errorf("defining domain %q: a domain of that name and lab exists with UUID %s, not the %s this lab's state records: "+
				"run 'lab destroy' to remove the lab's leftovers: %w", s.Name, have.UUID, s.UUID, ErrNotOwned)
		}
		def.UUID = have.UUID // libvirt refuses a second definition of a name under another UUID
	case !isNotFound(err):
		return fmt.Errorf("looking up domain %q: %w", s.Name, err)
	}
	doc, err := def.Marshal()
	if err != nil {
		return fmt.Errorf("defining domain %q: %w", s.Name, err)
	}
	if _, err := p.c.DomainDefineXMLFlags(doc, libvirt.DomainDefineValidate); err != nil {
		return fmt.Errorf("defining domain %q: %w", s.Name, err)
	}
	return nil
}

// StartDomain starts a defined domain unless it is running already.
func (p *Provider) StartDomain(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("starting domain %q: %w", name, err)
	}
	dom, err := p.c.DomainLookupByName(name)
	if err != nil {
		return fmt.Errorf("looking up domain %q: %w", name, err)
	}
	state, _, err := p.c.DomainGetState(dom, 0)
	if err != nil {
		return fmt.Errorf("reading state of domain %q: %w", name, err)
	}
	if libvirt.DomainState(state) == libvirt.DomainRunning {
		return nil
	}
	if err := p.c.DomainCreate(dom); err != nil {
		return fmt.Errorf("starting domain %q: %w", name, err)
	}
	return nil
}

// DomainState returns the state of a domain, StateAbsent when there is none.
func (p *Provider) DomainState(ctx context.Context, name string) (State, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("reading state of domain %q: %w", name, err)
	}
	dom, err := p.c.DomainLookupByName(name)
	if isNotFound(err) {
		return StateAbsent, nil
	}
	if err != nil {
		return "", fmt.Errorf("looking up domain %q: %w", name, err)
	}
	state, _, err := p.c.DomainGetState(dom, 0)
	if isNotFound(err) {
		return StateAbsent, nil
	}
	if err != nil {
		return "", fmt.Errorf("reading state of domain %q: %w", name, err)
	}
	return stateOf(libvirt.DomainState(state)), nil
}

// DomainXMLDesc returns a domain's live definition (the one it runs with
// when running), for evidence and debugging.
func (p *Provider) DomainXMLDesc(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("reading domain %q: %w", name, err)
	}
	dom, err := p.c.DomainLookupByName(name)
	if err != nil {
		return "", fmt.Errorf("looking up domain %q: %w", name, err)
	}
	doc, err := p.c.DomainGetXMLDesc(dom, 0)
	if err != nil {
		return "", fmt.Errorf("reading domain %q: %w", name, err)
	}
	return doc, nil
}

// DeleteDomain powers the lab's domain off when it runs and undefines it.
// It does nothing when the domain is absent and refuses (ErrNotOwned) one
// whose metadata does not name lab. It leaves the domain's disks alone.
func (p *Provider) DeleteDomain(ctx context.Context, name, lab string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting domain %q: %w", name, err)
	}
	dom, err := p.c.DomainLookupByName(name)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking up domain %q: %w", name, err)
	}
	def, err := p.domainDef(dom)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if m, ok := domainMarker(def); !ok || m.Lab != lab || lab == "" {
		return fmt.Errorf("refusing to delete domain %q for lab %q: %s: %w", name, lab, ownerText(m, ok), ErrNotOwned)
	}
	state, _, err := p.c.DomainGetState(dom, 0)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading state of domain %q: %w", name, err)
	}
	if libvirt.DomainState(state) != libvirt.DomainShutoff {
		// Hard power-off: the lab's guests keep nothing worth a clean
		// shutdown once the lab is destroyed.
		if err := p.c.DomainDestroy(dom); err != nil && !isNotFound(err) && !hasCode(err, libvirt.ErrOperationInvalid) {
			return fmt.Errorf("stopping domain %q: %w", name, err)
		}
	}
	flags := libvirt.DomainUndefineManagedSave | libvirt.DomainUndefineSnapshotsMetadata |
		libvirt.DomainUndefineCheckpointsMetadata | libvirt.DomainUndefineNvram
	if err := p.c.DomainUndefineFlags(dom, flags); err != nil && !isNotFound(err) {
		return fmt.Errorf("undefining domain %q: %w", name, err)
	}
	return nil
}

// OwnedDomains lists the domains whose metadata names lab.
func (p *Provider) OwnedDomains(ctx context.Context, lab string) ([]DomainInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	doms, _, err := p.c.ConnectListAllDomains(1, 0)
	if err != nil {
		return nil, fmt.Errorf("listing domains: %w", err)
	}
	var out []DomainInfo
	for _, dom := range doms {
		def, err := p.domainDef(dom)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		m, ok := domainMarker(def)
		if !ok || m.Lab != lab {
			continue
		}
		state, _, err := p.c.DomainGetState(dom, 0)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading state of domain %q: %w", dom.Name, err)
		}
		out = append(out, DomainInfo{Name: def.Name, Node: m.Node, State: stateOf(libvirt.DomainState(state))})
	}
	slices.SortFunc(out, func(a, b DomainInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// domainDef reads and parses a domain's inactive definition, which holds
// the metadata as defined.
func (p *Provider) domainDef(dom libvirt.Domain) (libvirtxml.Domain, error) {
	var def libvirtxml.Domain
	doc, err := p.c.DomainGetXMLDesc(dom, libvirt.DomainXMLInactive)
	if err != nil {
		return def, fmt.Errorf("reading domain %q: %w", dom.Name, err)
	}
	if err := def.Unmarshal(doc); err != nil {
		return def, fmt.Errorf("parsing domain %q: %w", dom.Name, err)
	}
	return def, nil
}

func domainMarker(def libvirtxml.Domain) (marker, bool) {
	if def.Metadata == nil {
		return marker{}, false
	}
	return parseMarker(def.Metadata.XML)
}
