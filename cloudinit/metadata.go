package cloudinit

import (
	"errors"
	"fmt"
)

// MetaData is the NoCloud meta-data document. cloud-init runs its
// per-instance modules again whenever InstanceID changes, so a node that is
// rebuilt should get a new one.
type MetaData struct {
	InstanceID    string `yaml:"instance-id"`
	LocalHostname string `yaml:"local-hostname,omitempty"`
}

// Marshal renders the meta-data file.
func (m MetaData) Marshal() ([]byte, error) {
	if m.InstanceID == "" {
		return nil, errors.New("rendering meta-data: instance-id is empty")
	}
	b, err := encodeYAML(m)
	if err != nil {
		return nil, fmt.Errorf("rendering meta-data: %w", err)
	}
	return b, nil
}
