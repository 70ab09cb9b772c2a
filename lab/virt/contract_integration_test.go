//go:build integration

package virt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"github.com/kthw-lab/lab/lab/virt/virttest"
)

// TestIntegrationFakeMatchesLibvirt runs one sequence of calls, successes
// and refusals, against the real daemon and against virttest.Fake, and
// requires the same outcome (success or the same libvirt error code) at
// every step: the fake's fidelity is tested, not assumed.
func TestIntegrationFakeMatchesLibvirt(t *testing.T) {
	p, err := Dial(t.Context(), "qemu:///system")
	if err != nil {
		t.Fatalf("libvirt must be reachable for -tags integration (start it: `sudo scripts/host-setup.sh`, or `virtlogd -d; libvirtd -d`): %v", err)
	}
	t.Cleanup(func() { p.Close() })
	lab := fmt.Sprintf("lc%d", os.Getpid()%100000)
	gw := freeSubnet(t, p)
	dir := filepath.Join("/var/lib/libvirt/images", "lab-test-"+lab)
	t.Cleanup(func() { os.RemoveAll(dir) })

	t.Cleanup(func() { removeLeftovers(p.c, lab) })
	real := contractSteps(p.c, lab, gw.String(), dir)
	fake := contractSteps(virttest.New(), lab, gw.String(), dir)
	real = append(real, sideSteps(p.c.(sideConn), lab)...)
	fake = append(fake, sideSteps(virttest.New(), lab)...)
	if len(real) != len(fake) {
		t.Fatalf("%d steps against libvirt, %d against the fake", len(real), len(fake))
	}
	for i := range real {
		t.Logf("%-42s libvirt: %s", real[i].name, real[i].text)
		if real[i].code != fake[i].code || real[i].code == 0 && real[i].text != fake[i].text {
			t.Errorf("step %q: libvirt gave %s, the fake %s", real[i].name, real[i].text, fake[i].text)
		}
	}
}

type outcome struct {
	name string
	code int // 0 success, libvirt error code, -1 another error
	text string
}

// contractSteps runs the sequence and undoes what it made, whatever the
// outcomes; a step's handles come from earlier steps.
func contractSteps(c conn, lab, gw, dir string) []outcome {
	var out []outcome
	step := func(name string, err error) {
		o := outcome{name: name, text: "success"}
		var lerr libvirt.Error
		switch {
		case errors.As(err, &lerr):
			o.code, o.text = int(lerr.Code), fmt.Sprintf("code %d (%s)", lerr.Code, lerr.Message)
		case err != nil:
			o.code, o.text = -1, err.Error()
		}
		out = append(out, o)
	}
	netXML := fmt.Sprintf(`<network><name>%s-net</name><bridge name="%s-br"/><ip address="%s" prefix="24"/></network>`, lab, lab, gw)
	net2XML := fmt.Sprintf(`<network><name>%s-net2</name><bridge name="%s-br2"/><ip address="%s" prefix="25"/></network>`, lab, lab, gw)
	sameBridge := fmt.Sprintf(`<network><name>%s-net3</name><bridge name="%s-br"/><ip address="10.254.254.1" prefix="24"/></network>`, lab, lab)
	poolXML := fmt.Sprintf(`<pool type="dir"><name>%s-pool</name><target><path>%s</path></target></pool>`, lab, dir)
	pool2XML := fmt.Sprintf(`<pool type="dir"><name>%s-pool2</name><target><path>%s</path></target></pool>`, lab, dir)
	volXML := fmt.Sprintf(`<volume><name>%s-v.raw</name><capacity unit="bytes">1048576</capacity><target><format type="raw"/></target></volume>`, lab)
	domXML := fmt.Sprintf(`<domain type="qemu"><name>%s-dom</name><memory unit="MiB">64</memory><os><type arch="x86_64">hvm</type></os></domain>`, lab)

	_, err := c.DomainLookupByName(lab + "-missing")
	step("lookup missing domain", err)
	_, err = c.NetworkLookupByName(lab + "-missing")
	step("lookup missing network", err)
	_, err = c.StoragePoolLookupByName(lab + "-missing")
	step("lookup missing pool", err)

	n, err := c.NetworkDefineXML(netXML)
	step("define network", err)
	_, err = c.NetworkDefineXML(netXML)
	step("define network again without uuid", err)
	_, err = c.NetworkDefineXML(sameBridge)
	step("define network on a used bridge", err)
	step("destroy inactive network", c.NetworkDestroy(n))
	step("start network", c.NetworkCreate(n))
	step("start network again", c.NetworkCreate(n))
	n2, err := c.NetworkDefineXML(net2XML)
	step("define overlapping network", err)
	step("start overlapping network", c.NetworkCreate(n2))
	step("undefine overlapping network", c.NetworkUndefine(n2))
	step("undefine active network", c.NetworkUndefine(n))
	_, err = c.NetworkLookupByName(lab + "-net")
	step("lookup transient network", err)
	step("destroy transient network", c.NetworkDestroy(n))
	_, err = c.NetworkLookupByName(lab + "-net")
	step("lookup destroyed transient network", err)

	sp, err := c.StoragePoolDefineXML(poolXML, 0)
	step("define pool", err)
	_, err = c.StoragePoolDefineXML(pool2XML, 0)
	step("define second pool on the same directory", err)
	step("start pool without its directory", c.StoragePoolCreate(sp, 0))
	_, err = c.StorageVolLookupByName(sp, lab+"-v.raw")
	step("lookup volume in inactive pool", err)
	step("build pool", c.StoragePoolBuild(sp, 0))
	step("start pool", c.StoragePoolCreate(sp, 0))
	step("undefine active pool", c.StoragePoolUndefine(sp))
	_, err = c.StorageVolLookupByName(sp, lab+"-v.raw")
	step("lookup missing volume", err)
	vol, err := c.StorageVolCreateXML(sp, volXML, 0)
	step("create volume", err)
	_, err = c.StorageVolCreateXML(sp, volXML, 0)
	step("create volume again", err)
	step("delete volume", c.StorageVolDelete(vol, 0))
	step("delete volume again", c.StorageVolDelete(vol, 0))
	step("stop pool", c.StoragePoolDestroy(sp))
	step("stop pool again", c.StoragePoolDestroy(sp))
	step("undefine pool", c.StoragePoolUndefine(sp))
	_, err = c.StoragePoolLookupByName(lab + "-pool")
	step("lookup undefined pool", err)

	d, err := c.DomainDefineXMLFlags(domXML, libvirt.DomainDefineValidate)
	step("define domain", err)
	_, err = c.DomainDefineXMLFlags(domXML, 0)
	step("define domain again without uuid", err)
	step("destroy shut-off domain", c.DomainDestroy(d))
	state, _, err := c.DomainGetState(d, 0)
	step("state of defined domain", err)
	out[len(out)-1].text += fmt.Sprintf(", state %d", state)
	step("undefine domain", c.DomainUndefineFlags(d, libvirt.DomainUndefineNvram))
	_, _, err = c.DomainGetState(d, 0)
	step("state of undefined domain", err)
	return out
}

// removeLeftovers undoes what an aborted contract sequence left on the real
// daemon; errors mean there was nothing to remove.
func removeLeftovers(c conn, lab string) {
	for _, name := range []string{lab + "-net", lab + "-net2", lab + "-net3"} {
		if n, err := c.NetworkLookupByName(name); err == nil {
			_ = c.NetworkDestroy(n)
			_ = c.NetworkUndefine(n)
		}
	}
	for _, name := range []string{lab + "-pool", lab + "-pool2"} {
		if sp, err := c.StoragePoolLookupByName(name); err == nil {
			_ = c.StoragePoolDestroy(sp)
			_ = c.StoragePoolUndefine(sp)
		}
	}
	if d, err := c.DomainLookupByName(lab + "-dom"); err == nil {
		_ = c.DomainDestroy(d)
		_ = c.DomainUndefineFlags(d, 0)
	}
	for _, name := range []string{lab + "-probe", lab + "-bare"} {
		if d, err := c.DomainLookupByName(name); err == nil {
			_ = c.DomainDestroy(d)
		}
	}
}

// sideConn is every call virt finds by type assertion beyond conn.
type sideConn interface {
	conn
	bootTestConn
	hostConn
	kvmConn
	nodeConn
}

// sideSteps asks the host what Host, HasKVM and Size ask, and runs a boot
// probe's calls on transient domains that never leave their firmware
// (no disk): outcomes, not the host's answers, must agree.
// This host offers KVM (/dev/kvm), as the fake's default host does.
func sideSteps(c sideConn, lab string) []outcome {
	var out []outcome
	step := func(name string, err error) {
		o := outcome{name: name, text: "success"}
		var lerr libvirt.Error
		switch {
		case errors.As(err, &lerr):
			o.code, o.text = int(lerr.Code), fmt.Sprintf("code %d (%s)", lerr.Code, lerr.Message)
		case err != nil:
			o.code, o.text = -1, err.Error()
		}
		out = append(out, o)
	}
	_, err := c.ConnectGetHostname()
	step("hostname", err)
	_, err = c.ConnectGetLibVersion()
	step("libvirt version", err)
	_, err = c.ConnectGetVersion()
	step("hypervisor version", err)
	doc, err := c.ConnectGetCapabilities()
	if err == nil {
		var caps libvirtxml.Caps
		err = caps.Unmarshal(doc)
		if err == nil && (caps.Host.CPU == nil || caps.Host.CPU.Model == "" || len(caps.Host.SecModel) == 0) {
			err = fmt.Errorf("capabilities without a host CPU model or security model: %s", doc)
		}
	}
	step("capabilities name the CPU and security models", err)
	_, err = c.ConnectGetDomainCapabilities(nil, libvirt.OptString{"x86_64"}, nil, libvirt.OptString{"kvm"}, 0)
	step("domain capabilities for kvm", err)
	_, err = c.ConnectGetDomainCapabilities(nil, libvirt.OptString{"x86_64"}, nil, libvirt.OptString{"nosuchtype"}, 0)
	step("domain capabilities for an unknown type", err)
	_, mem, cpus, _, _, _, _, _, err := c.NodeGetInfo()
	if err == nil && (mem == 0 || cpus == 0) {
		err = fmt.Errorf("node info: %d CPUs, %d KiB", cpus, mem)
	}
	step("node info", err)

	bare := fmt.Sprintf(`<domain type="qemu"><name>%s-bare</name><memory unit="MiB">64</memory><os><type arch="x86_64">hvm</type></os></domain>`, lab)
	b, err := c.DomainCreateXML(bare, libvirt.DomainStartPaused|libvirt.DomainStartAutodestroy)
	step("create transient domain without a serial port", err)
	step("console of a domain without a serial port", c.DomainOpenConsole(b, nil, io.Discard, uint32(libvirt.DomainConsoleForce)))
	step("destroy paused transient domain", c.DomainDestroy(b))

	domXML := fmt.Sprintf(`<domain type="qemu"><name>%s-probe</name><memory unit="MiB">64</memory><os><type arch="x86_64">hvm</type></os>
<devices><serial type="pty"><target type="isa-serial" port="0"/></serial><console type="pty"><target type="serial" port="0"/></console></devices></domain>`, lab)
	d, err := c.DomainCreateXML(domXML, libvirt.DomainStartPaused|libvirt.DomainStartAutodestroy)
	step("create transient domain paused", err)
	state, _, err := c.DomainGetState(d, 0)
	step("state of paused transient domain", err)
	out[len(out)-1].text += fmt.Sprintf(", state %d", state)
	_, err = c.DomainCreateXML(domXML, libvirt.DomainStartPaused)
	step("create transient domain again", err)
	console := make(chan error, 1)
	go func() { console <- c.DomainOpenConsole(d, nil, io.Discard, uint32(libvirt.DomainConsoleForce)) }()
	// The stream is open once the call is in flight; neither side says
	// when, so give it the time a local daemon needs.
	time.Sleep(500 * time.Millisecond)
	step("resume", c.DomainResume(d))
	step("resume running domain", c.DomainResume(d))
	state, _, err = c.DomainGetState(d, 0)
	step("state of resumed domain", err)
	out[len(out)-1].text += fmt.Sprintf(", state %d", state)
	step("destroy transient domain", c.DomainDestroy(d))
	select {
	case err = <-console:
	case <-time.After(10 * time.Second):
		err = errors.New("the console stream did not end with the domain")
	}
	step("console stream ends with the domain", err)
	_, _, err = c.DomainGetState(d, 0)
	step("state of destroyed transient domain", err)
	step("resume destroyed domain", c.DomainResume(d))
	return out
}
