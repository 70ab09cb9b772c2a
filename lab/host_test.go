package lab

import (
	"io"
	"net"
	"strings"
	"testing"
)

func TestHostOfThisMachineDialsDirectly(t *testing.T) {
	h, err := NewHost("qemu:///system")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Remote() {
		t.Error("qemu:///system is remote")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := h.Dial()(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b, _ := io.ReadAll(c); string(b) != "hi" {
		t.Errorf("read %q through the host's dialer, want hi", b)
	}
}

func TestRemoteHostConnectsOnlyWhenUsed(t *testing.T) {
	// Nothing listens at .invalid: a connection attempt would fail.
	h, err := NewHost("qemu+ssh://root@lab.invalid/system")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Remote() || h.URI() != "qemu+ssh://root@lab.invalid/system" {
		t.Errorf("Remote = %t, URI = %q", h.Remote(), h.URI())
	}
	if err := h.Close(); err != nil {
		t.Errorf("closing an unused remote host: %v", err)
	}
}

func TestMalformedRemoteURIIsRefused(t *testing.T) {
	_, err := NewHost("qemu+ssh:///system")
	if err == nil || !strings.Contains(err.Error(), "host") {
		t.Errorf("NewHost(no host) = %v, want an error naming the missing host", err)
	}
}
