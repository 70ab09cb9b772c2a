package lab

import (
	"context"
	"errors"
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

func TestRemoteHostPrefixes(t *testing.T) {
	run := func(_ context.Context, cmd string) ([]byte, error) {
		if cmd != "cat /proc/net/route" {
			return nil, errors.New("unexpected " + cmd)
		}
		return []byte("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nbr0\t00C7A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"), nil
	}
	got, err := RemoteHostPrefixes(t.Context(), run)
	if err != nil || len(got) != 1 || got[0].Kind != "remote host route via" || got[0].Name != "br0" ||
		got[0].Prefix != netip.MustParsePrefix("192.168.199.0/24") {
		t.Fatalf("RemoteHostPrefixes = %+v, %v", got, err)
	}
	fail := func(context.Context, string) ([]byte, error) { return nil, errors.New("session refused") }
	if _, err := RemoteHostPrefixes(t.Context(), fail); err == nil {
		t.Error("a failed read gave no error")
	}
}
