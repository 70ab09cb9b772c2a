package cloudinit

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// encodeYAML marshals v with two-space indentation, the layout cloud-init's
// own examples use.
func encodeYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
