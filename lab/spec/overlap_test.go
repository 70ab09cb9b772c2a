package spec

import (
	"net/netip"
	"strings"
	"testing"
)

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func TestOverlaps(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"192.168.199.0/24", "192.168.199.0/24", true},
		{"192.168.199.0/24", "192.168.199.128/25", true},
		{"192.168.0.0/16", "192.168.199.0/24", true},
		{"192.168.199.0/24", "192.168.200.0/24", false},
		{"192.168.198.0/23", "192.168.199.0/24", true},
		{"10.0.0.0/8", "192.168.199.0/24", false},
		{"192.168.199.0/24", "fd00::/8", false},
	} {
		if got := Overlaps(pfx(tt.a), pfx(tt.b)); got != tt.want {
			t.Errorf("Overlaps(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Overlaps(pfx(tt.b), pfx(tt.a)); got != tt.want {
			t.Errorf("Overlaps(%s, %s) = %v, want %v", tt.b, tt.a, got, tt.want)
		}
	}
	if Overlaps(netip.Prefix{}, pfx("0.0.0.0/0")) {
		t.Error("an invalid prefix overlaps")
	}
}

func TestCheckOverlap(t *testing.T) {
	p, err := Defaults().Plan()
	if err != nil {
		t.Fatal(err)
	}
	free := []NamedPrefix{
		{Kind: "libvirt network", Name: "default", Prefix: pfx("192.168.122.0/24")},
		{Kind: "route on", Name: "eth0", Prefix: pfx("10.0.2.0/24")},
		{Kind: "route on", Name: "eth0", Prefix: pfx("0.0.0.0/0")}, // default route
	}
	if err := CheckOverlap(p, free); err != nil {
		t.Errorf("CheckOverlap(no clash) = %v", err)
	}

	clash := append(free,
		NamedPrefix{Kind: "libvirt network", Name: "story", Prefix: pfx("192.168.199.0/24")},
		NamedPrefix{Kind: "route on", Name: "wlan0", Prefix: pfx("192.168.192.0/20")},
	)
	err = CheckOverlap(p, clash)
	errs := fieldErrors(t, err)
	if len(errs) != 2 {
		t.Fatalf("CheckOverlap gave %d errors, want 2: %v", len(errs), err)
	}
	for i, want := range []string{
		`--subnet 192.168.199.0/24: overlaps libvirt network "story" (192.168.199.0/24); choose a free range, such as --subnet 192.168.208.0/24`,
		`--subnet 192.168.199.0/24: overlaps route on "wlan0" (192.168.192.0/20); choose a free range, such as --subnet 192.168.208.0/24`,
	} {
		if got := errs[i].Error(); got != want {
			t.Errorf("error %d =\n%s\nwant\n%s", i, got, want)
		}
	}
}

func TestSuggestSubnet(t *testing.T) {
	got, ok := SuggestSubnet(24, nil)
	if !ok || got != pfx("192.168.199.0/24") {
		t.Errorf("SuggestSubnet(24, nil) = %s, %v", got, ok)
	}
	got, ok = SuggestSubnet(23, []NamedPrefix{{Prefix: pfx("192.168.198.0/24")}})
	if !ok || got != pfx("192.168.200.0/23") {
		t.Errorf("SuggestSubnet(23, 198/24 used) = %s, %v", got, ok)
	}
	// Wraps around past 255.
	got, ok = SuggestSubnet(24, []NamedPrefix{{Prefix: pfx("192.168.128.0/17")}})
	if !ok || got != pfx("192.168.0.0/24") {
		t.Errorf("SuggestSubnet(24, upper half used) = %s, %v", got, ok)
	}
	if _, ok := SuggestSubnet(24, []NamedPrefix{{Prefix: pfx("192.168.0.0/16")}}); ok {
		t.Error("SuggestSubnet found room in a used 192.168.0.0/16")
	}
	if _, ok := SuggestSubnet(26, nil); ok {
		t.Error("SuggestSubnet(26) suggested a subnet too small for .200")
	}
	// Every suggestion is itself a valid lab subnet.
	s := Defaults()
	s.Subnet, _ = SuggestSubnet(24, []NamedPrefix{{Prefix: DefaultSubnet}})
	if err := s.Validate(); err != nil {
		t.Errorf("suggested %s is invalid: %v", s.Subnet, err)
	}
}

func TestCheckOverlapWithoutRoom(t *testing.T) {
	p, _ := Defaults().Plan()
	err := CheckOverlap(p, []NamedPrefix{{Kind: "route on", Name: "br0", Prefix: pfx("192.168.0.0/16")}})
	if err == nil || !strings.HasSuffix(err.Error(), "choose a free range with --subnet") {
		t.Errorf("CheckOverlap(/16 used) = %v", err)
	}
}
