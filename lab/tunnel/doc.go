// Package tunnel reaches a remote libvirt host over SSH, for
// --connect qemu+ssh://user@host[:port]/system when the laptop is too small
// for a lab.
//
// One SSH connection, made with golang.org/x/crypto/ssh, carries everything
// the lab sends to the remote host: the libvirt RPC stream to the daemon's
// unix socket (OpenSSH's direct-streamlocal channel, as `ssh -L` with a
// socket) and the TCP connections to the lab's guests (direct-tcpip), whose
// addresses exist only on the remote host's bridge. The host key is always
// checked against known_hosts (knownhosts); there is no way to skip that.
//
// Parse reads the URI, Open makes the connection, and Tunnel.DialContext is
// the dial function that lab/ssh, lab/etcd and lab/virt take in place of
// net.Dialer. WithDialer and Dialer carry it through a context.Context, so a
// command that opens the tunnel once hands it to every library call.
package tunnel
