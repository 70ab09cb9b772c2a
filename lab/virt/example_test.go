package virt_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/lab/virt/virttest"
)

// Tests of code built on the provider run it over the fake and assert the
// state the fake ends in.
func ExampleNewProvider() {
	ctx := context.Background()
	f := virttest.New()
	f.AddNetwork(`<network><name>default</name><bridge name="virbr0"/><ip address="192.168.122.1" prefix="24"/></network>`, true)
	p := virt.NewProvider(f)

	spec := virt.NetworkSpec{Name: "kthw-net", Bridge: "kthw-br0", Gateway: netip.MustParseAddr("192.168.199.1"),
		Prefix: 24, Mode: virt.ModeIsolated, Lab: "kthw"}
	created, err := p.EnsureNetwork(ctx, spec)
	fmt.Println(created, err, f.Objects())

	fmt.Println(p.DeleteNetwork(ctx, "default", "kthw"))
	fmt.Println(p.DeleteNetwork(ctx, "kthw-net", "kthw"), f.Objects())
	// Output:
	// true <nil> [network:default network:kthw-net]
	// refusing to delete network "default" for lab "kthw": it has no lab metadata: not owned by this lab
	// <nil> [network:default]
}
