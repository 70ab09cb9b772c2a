package virt

import (
	"context"
	"fmt"
)

// NetworkXMLDesc returns the network's live XML, for evidence.
func (p *Provider) NetworkXMLDesc(_ context.Context, name string) (string, error) {
	n, err := p.c.NetworkLookupByName(name)
	if err != nil {
		return "", fmt.Errorf("looking up network %q: %w", name, err)
	}
	doc, err := p.c.NetworkGetXMLDesc(n, 0)
	if err != nil {
		return "", fmt.Errorf("reading network %q: %w", name, err)
	}
	return doc, nil
}
