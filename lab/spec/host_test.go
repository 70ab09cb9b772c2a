package spec

import (
	"strings"
	"testing"
	"time"
)

func TestCheckHost(t *testing.T) {
	host := HostLimits{CPUs: 2, MemoryMiB: 4000}
	for _, tc := range []struct {
		name string
		mod  func(*Spec)
		want []string // substrings, one error each; none for nil
	}{
		{"defaults fit", func(*Spec) {}, nil},
		{"cpus equal to host", func(s *Spec) { s.CPUs = 2 }, nil},
		{"more cpus than host", func(s *Spec) { s.CPUs = 3 }, []string{"--cpus 3: more vCPUs per node than the 2 CPUs of this host; use at most 2"}},
		{"memory times nodes", func(s *Spec) { s.MemoryMiB = 2000 }, []string{"3 nodes × 2000 MiB = 6000 MiB, more than the 4000 MiB", "use at most --memory 1333 for 3 nodes"}},
		{"terabyte", func(s *Spec) { s.MemoryMiB = 1048576 }, []string{"--memory 1048576"}},
		{"nothing fits", func(s *Spec) { s.Nodes, s.MemoryMiB = 17, 256 }, []string{"use fewer --nodes"}},
	} {
		s := Defaults()
		tc.mod(&s)
		err := s.CheckHost(host)
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%s: CheckHost = %v, want nil", tc.name, err)
			}
			continue
		}
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: CheckHost = %v, want %q", tc.name, err, w)
			}
		}
		if len(fieldErrors(t, err)) == 0 {
			t.Errorf("%s: no *FieldError", tc.name)
		}
	}
	if err := Defaults().CheckHost(HostLimits{}); err != nil {
		t.Errorf("unknown limits: CheckHost = %v, want nil", err)
	}
}

func TestMillisecondsRefusesOverflow(t *testing.T) {
	d, err := Milliseconds("--election-timeout", 1000)
	if err != nil || d != time.Second {
		t.Fatalf("Milliseconds(1000) = %v, %v", d, err)
	}
	for _, v := range []int64{288230376151712504, 9223372036855, -9223372036855} {
		d, err := Milliseconds("--election-timeout", v)
		if err == nil || !strings.Contains(err.Error(), "--election-timeout") || !strings.Contains(err.Error(), "use at most 50000") {
			t.Errorf("Milliseconds(%d) = %v, %v; want a refusal naming the flag and the fix", v, d, err)
		}
	}
	if _, err := Milliseconds("--election-timeout", 9223372036854); err != nil {
		t.Errorf("the largest value a duration holds is refused: %v", err)
	}
}
