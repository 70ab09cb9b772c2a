package lab

import (
	"net/netip"
	"testing"
)

func TestParseRoutes(t *testing.T) {
	table := `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
eth0	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
virbr9	00C7A8C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
`
	got := parseRoutes(table)
	want := []string{"eth0 192.0.2.0/24", "virbr9 192.168.199.0/24"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v (the default route left out)", got, want)
	}
	for i, r := range got {
		if s := r.Name + " " + r.Prefix.String(); s != want[i] {
			t.Errorf("route %d = %q, want %q", i, s, want[i])
		}
	}
	if got[1].Prefix != netip.MustParsePrefix("192.168.199.0/24") {
		t.Errorf("prefix = %v", got[1].Prefix)
	}
}
