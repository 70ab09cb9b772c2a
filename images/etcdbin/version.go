package etcdbin

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
)

// pinnedVersion is the etcd version required by lab's go.mod. It is only
// used when the binary carries no build information (tests, stripped
// builds); a unit test keeps it equal to go.mod.
const pinnedVersion = "v3.6.16"

// clientModule is the etcd module whose version in go.mod pins every etcd
// module lab uses.
const clientModule = "go.etcd.io/etcd/client/v3"

// KnownVersions are releases known to work, shown when a version is
// rejected: v3.4.7 is the story's version, v3.4.23 is Debian's, and 3.5+
// can also be built from Go modules.
var KnownVersions = []string{"v3.4.7", "v3.4.23", "v3.5.21", "v3.6.16"}

// minBuildMinor is the first etcd 3.x minor release with separate
// server/v3 and etcdctl/v3 Go modules; older releases cannot be built
// from the module proxy.
const minBuildMinor = 5

// PinnedVersion returns the etcd version pinned in lab's go.mod, read from
// the running binary's build information when present.
func PinnedVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return pinnedVersion
	}
	return pinnedFrom(info)
}

func pinnedFrom(info *debug.BuildInfo) string {
	for _, dep := range info.Deps {
		if dep.Path != clientModule {
			continue
		}
		if dep.Replace != nil && dep.Replace.Version != "" {
			return dep.Replace.Version
		}
		if dep.Version != "" && dep.Version != "(devel)" {
			return dep.Version
		}
	}
	return pinnedVersion
}

var versionPattern = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)$`)

// version is a parsed etcd release version.
type version struct {
	major, minor, patch int
}

func (v version) String() string {
	return fmt.Sprintf("v%d.%d.%d", v.major, v.minor, v.patch)
}

// ParseVersion checks that s names an etcd 3.x release as vMAJOR.MINOR.PATCH
// (the leading "v" may be omitted) and returns it in canonical form.
func ParseVersion(s string) (string, error) {
	v, err := parseVersion(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

func parseVersion(s string) (version, error) {
	m := versionPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return version{}, fmt.Errorf("invalid etcd version %q: want vMAJOR.MINOR.PATCH, for example %s", s, knownList())
	}
	var v version
	for i, p := range []*int{&v.major, &v.minor, &v.patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return version{}, fmt.Errorf("invalid etcd version %q: %w", s, err)
		}
		*p = n
	}
	if v.major != 3 {
		return version{}, fmt.Errorf("unsupported etcd version %s: lab supports etcd 3.x; known versions: %s", v, knownList())
	}
	return v, nil
}

// buildable reports whether v can be built from the Go module proxy.
func (v version) buildable() bool {
	return v.major == 3 && v.minor >= minBuildMinor
}

func knownList() string {
	return strings.Join(KnownVersions, ", ")
}
