package lab

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"strings"

	"github.com/kthw-lab/lab/lab/spec"
)

func netipPrefix(ip net.IP, ones int) (netip.Prefix, error) {
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Prefix(ones)
}

// parseRoutes reads /proc/net/route: one route per line after the header,
// destination and mask as little-endian hex. Default routes (mask 0) are
// left out: they overlap everything and say nothing about a subnet in use.
func parseRoutes(table string) []spec.NamedPrefix {
	var out []spec.NamedPrefix
	lines := strings.Split(table, "\n")
	for _, line := range lines[min(1, len(lines)):] {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		dst, err1 := hex.DecodeString(f[1])
		mask, err2 := hex.DecodeString(f[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		ones := bits.OnesCount32(binary.LittleEndian.Uint32(mask))
		if ones == 0 {
			continue
		}
		// The kernel prints the address as a host-order (little-endian)
		// number: the last hex pair is the first octet.
		addr := netip.AddrFrom4([4]byte{dst[3], dst[2], dst[1], dst[0]})
		p, err := addr.Prefix(ones)
		if err != nil {
			continue
		}
		out = append(out, spec.NamedPrefix{Kind: "host route via", Name: f[0], Prefix: p})
	}
	return out
}

// RemoteHostPrefixes lists the networks a remote libvirt host routes (its
// /proc/net/route, read with run, such as the tunnel's Output): the
// connected routes of its interfaces among them. The lab's subnet must not
// overlap them there, where its bridge will be.
func RemoteHostPrefixes(ctx context.Context, run func(ctx context.Context, cmd string) ([]byte, error)) ([]spec.NamedPrefix, error) {
	table, err := run(ctx, "cat /proc/net/route")
	if err != nil {
		return nil, fmt.Errorf("reading the remote host's routes: %w", err)
	}
	out := parseRoutes(string(table))
	for i := range out {
		out[i].Kind = "remote host route via"
	}
	return out, nil
}
