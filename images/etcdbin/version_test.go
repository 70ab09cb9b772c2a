package etcdbin

import (
	"bufio"
	"os"
	"runtime/debug"
	"strings"
	"testing"
)

// TestPinnedConstantMatchesGoMod keeps the fallback constant equal to the
// version go.mod pins, so tests and stripped binaries agree with real ones.
func TestPinnedConstantMatchesGoMod(t *testing.T) {
	f, err := os.Open("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var found string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		if len(fields) >= 2 && fields[0] == clientModule {
			found = fields[1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if found == "" {
		t.Fatalf("go.mod does not require %s", clientModule)
	}
	if found != pinnedVersion {
		t.Errorf("pinnedVersion = %s, go.mod pins %s %s: update the constant", pinnedVersion, clientModule, found)
	}
	if got := PinnedVersion(); got != found {
		t.Errorf("PinnedVersion() = %s, go.mod pins %s", got, found)
	}
}

func TestPinnedFromBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		deps []*debug.Module
		want string
	}{
		{"dependency", []*debug.Module{{Path: "x"}, {Path: clientModule, Version: "v3.5.21"}}, "v3.5.21"},
		{"replaced", []*debug.Module{{Path: clientModule, Version: "v3.5.21", Replace: &debug.Module{Version: "v3.6.1"}}}, "v3.6.1"},
		{"replaced by directory", []*debug.Module{{Path: clientModule, Version: "v3.5.21", Replace: &debug.Module{Path: "../etcd"}}}, "v3.5.21"},
		{"not linked", []*debug.Module{{Path: "x", Version: "v1.0.0"}}, pinnedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pinnedFrom(&debug.BuildInfo{Deps: tt.deps}); got != tt.want {
				t.Errorf("pinnedFrom = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	good := map[string]string{
		"v3.4.7":    "v3.4.7",
		"3.6.16":    "v3.6.16",
		" v3.5.0 ":  "v3.5.0",
		"v3.10.100": "v3.10.100",
	}
	for in, want := range good {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "latest", "v3.6", "v3.6.16-rc.0", "3.6.16.1", "v2.3.8", "v4.0.0", "v3.6.x", "../v3.4.7"} {
		_, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) succeeded, want error", in)
			continue
		}
		for _, known := range KnownVersions {
			if !strings.Contains(err.Error(), known) {
				t.Errorf("ParseVersion(%q) error %q does not list %s", in, err, known)
			}
		}
	}
}

func TestBuildable(t *testing.T) {
	for in, want := range map[string]bool{"v3.4.7": false, "v3.4.23": false, "v3.5.0": true, "v3.6.16": true, "v3.7.2": true} {
		v, err := parseVersion(in)
		if err != nil {
			t.Fatal(err)
		}
		if v.buildable() != want {
			t.Errorf("%s buildable = %v, want %v", in, !want, want)
		}
	}
}
