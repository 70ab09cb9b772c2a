package cloudinit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// The NoCloud file names.
const (
	MetaDataFile      = "meta-data"
	UserDataFile      = "user-data"
	NetworkConfigFile = "network-config"
)

// VolumeLabel is the ISO volume label NoCloud looks for.
const VolumeLabel = "cidata"

// Seed is everything a node's NoCloud ISO carries.
type Seed struct {
	MetaData []byte
	UserData []byte
	// NetworkConfig may be nil: the file is left out and cloud-init falls
	// back to DHCP on the first interface.
	NetworkConfig []byte
	// Extra are further files by name, held in memory.
	Extra map[string][]byte
	// ExtraFiles are further files by name, read from these host paths as
	// the seed is written, for large files such as the etcd binary.
	ExtraFiles map[string]string
}

// extraName is what survives kdomanski/iso9660's mangling unchanged and
// reads back the same from Linux's isofs without Rock Ridge: lower case, no
// dot (all but the last become "_", the last starts an extension), at most
// 28 characters (30 less the ";1" version suffix).
var extraName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,27}$`)

// ValidExtraName reports why name cannot be an extra file's name on the
// seed, or nil if it can.
func ValidExtraName(name string) error {
	switch name {
	case MetaDataFile, UserDataFile, NetworkConfigFile, "vendor-data":
		return fmt.Errorf("extra file name %q is a NoCloud file", name)
	}
	if !extraName.MatchString(name) {
		return fmt.Errorf("extra file name %q must be 1-28 of a-z 0-9 _ - (no dots, no upper case: the ISO writer mangles them)", name)
	}
	return nil
}

// seedFile is one file of the seed: in memory or at a host path.
type seedFile struct {
	name string
	data []byte
	path string
}

func (f seedFile) open() (io.ReadCloser, error) {
	if f.path == "" {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return os.Open(f.path)
}

// files validates the seed and lists its files in name order.
func (s Seed) files() ([]seedFile, error) {
	if s.MetaData == nil {
		return nil, errors.New("seed has no meta-data")
	}
	if s.UserData == nil {
		return nil, errors.New("seed has no user-data")
	}
	files := []seedFile{{name: MetaDataFile, data: s.MetaData}, {name: UserDataFile, data: s.UserData}}
	if s.NetworkConfig != nil {
		files = append(files, seedFile{name: NetworkConfigFile, data: s.NetworkConfig})
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(s.Extra)) {
		if err := ValidExtraName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, seedFile{name: name, data: s.Extra[name]})
	}
	for _, name := range slices.Sorted(maps.Keys(s.ExtraFiles)) {
		if err := ValidExtraName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := s.Extra[name]; dup {
			errs = append(errs, fmt.Errorf("extra file %q is given both as bytes and as a path", name))
			continue
		}
		p, err := regularFile(s.ExtraFiles[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("extra file %q: %w", name, err))
			continue
		}
		files = append(files, seedFile{name: name, path: p})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b seedFile) int { return strings.Compare(a.name, b.name) })
	return files, nil
}

// regularFile resolves symbolic links (the ISO writer refuses them) and
// checks that p is a regular file ISO 9660 can hold.
func regularFile(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", p, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", p)
	}
	if fi.Size() > math.MaxUint32 {
		return "", fmt.Errorf("%s is larger than ISO 9660's 4 GiB limit", p)
	}
	return real, nil
}
