package tunnel

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Scheme is the only remote transport the lab speaks.
const Scheme = "qemu+ssh"

// DefaultPort is the SSH port when the URI names none.
const DefaultPort = 22

// Target is a parsed qemu+ssh URI: where to log in and which daemon to
// reach there.
type Target struct {
	// URI is the URI as the user gave it, for messages.
	URI string
	// User is the remote login; empty means the local user's name.
	User string
	// Host is the remote host name or address (without brackets).
	Host string
	// Port is the SSH port; DefaultPort when the URI has none.
	Port int
	// Path is "/system" or "/session": which libvirt daemon.
	Path string
	// Socket is the remote daemon's unix socket (?socket=); empty means
	// discover it as the local provider does: virtqemud-sock, then
	// libvirt-sock.
	Socket string
	// KeyFile is a private key to authenticate with (?keyfile=), tried
	// after the SSH agent; empty means ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
	KeyFile string
	// KnownHosts is the known_hosts file (?known_hosts=); empty means
	// ~/.ssh/known_hosts.
	KnownHosts string
}

// Addr is host:port for dialling SSH.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// LibvirtURI is the URI to ask the remote daemon for once its socket is
// reached: qemu:///system or qemu:///session.
func (t Target) LibvirtURI() string { return "qemu://" + t.Path }

// IsRemote reports whether uri asks for a remote host: any scheme with a
// transport ("qemu+ssh", "qemu+tls", ...) or a host part. Parse says which
// of those are supported.
func IsRemote(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil {
		return strings.Contains(uri, "://") && !strings.HasPrefix(uri, "qemu:///")
	}
	return strings.Contains(u.Scheme, "+") || u.Host != ""
}

// options are the query parameters Parse understands.
var options = map[string]func(*Target, string) error{
	"socket":      func(t *Target, v string) error { return setPath(&t.Socket, "socket", v, false) },
	"keyfile":     func(t *Target, v string) error { return setPath(&t.KeyFile, "keyfile", v, true) },
	"known_hosts": func(t *Target, v string) error { return setPath(&t.KnownHosts, "known_hosts", v, true) },
}

// refused are libvirt's own URI options the lab does not implement, with
// what to do instead.
var refused = map[string]string{
	"no_verify":          "host keys are always verified: add the host with `ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts` (or ssh to it once), or point known_hosts= at a file that has it",
	"known_hosts_verify": "host keys are always verified against known_hosts: add the host with `ssh-keyscan -p PORT HOST >> ~/.ssh/known_hosts`",
	"sshauth":            "the lab authenticates with the SSH agent ($SSH_AUTH_SOCK) and key files: drop sshauth= and use keyfile= for a particular key",
	"command":            "the lab speaks SSH itself and runs no ssh binary: drop command=",
	"netcat":             "the lab reaches the socket over SSH's own channel, without netcat on the host: drop netcat=, use socket= to name the socket",
	"proxy":              "the lab reaches the socket over SSH's own channel, without virt-ssh-helper: drop proxy=, use socket= to name the socket",
	"mode":               "the lab opens the daemon's socket directly: drop mode=, use socket= to name the socket",
	"no_tty":             "the lab never prompts on the terminal: drop no_tty=",
	"no_delay":           "drop no_delay=",
	"name":               "the lab asks the remote daemon for qemu:///system or qemu:///session: drop name= and put that in the path",
	"pkipath":            "qemu+ssh uses no TLS certificates: drop pkipath=",
}

// Parse reads a remote libvirt URI:
//
//	qemu+ssh://[user@]host[:port]/system[?socket=PATH&keyfile=PATH&known_hosts=PATH]
//
// Anything else (another transport, a password, an option the lab does not
// implement) is refused with an error that says what to write instead.
func Parse(uri string) (Target, error) {
	fail := func(format string, args ...any) (Target, error) {
		return Target{}, fmt.Errorf("--connect %q: "+format, append([]any{uri}, args...)...)
	}
	u, err := url.Parse(uri)
	if err != nil {
		return fail("not a URI (%v): write qemu+ssh://user@host/system", err)
	}
	if u.Scheme != Scheme {
		if driver, transport, ok := strings.Cut(u.Scheme, "+"); ok {
			return fail("the %s transport is not supported: use qemu+ssh://user@host/system (driver %q)", transport, driver)
		}
		return fail("scheme %q is not a remote libvirt URI: use qemu+ssh://user@host/system, or qemu:///system for this machine", u.Scheme)
	}
	t := Target{URI: uri, User: u.User.Username(), Host: u.Hostname(), Port: DefaultPort, Path: u.Path}
	if _, ok := u.User.Password(); ok {
		return fail("passwords in the URI are not supported: remove it and use the SSH agent or keyfile=")
	}
	if t.Host == "" {
		return fail("no host: write qemu+ssh://user@host/system")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail("port %q is not a TCP port: write host:22 or leave the port out", p)
		}
		t.Port = n
	}
	if t.Path != "/system" && t.Path != "/session" {
		return fail("path %q names no libvirt daemon: end the URI with /system (or /session)", u.Path)
	}
	if u.Fragment != "" || u.RawFragment != "" {
		return fail("a URI fragment (#%s) means nothing here: remove it", u.Fragment)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("reading the options: %v", err)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := q[k]
		if len(vs) > 1 {
			return fail("option %s= is given %d times: give it once", k, len(vs))
		}
		if why, ok := refused[k]; ok {
			return fail("option %s= is not supported: %s", k, why)
		}
		set, ok := options[k]
		if !ok {
			return fail("unknown option %s=: the options are socket=, keyfile= and known_hosts=", k)
		}
		if err := set(&t, vs[0]); err != nil {
			return fail("%v", err)
		}
	}
	return t, nil
}

// setPath sets *dst to v, which must be an absolute path (or, when home is
// true, start with ~/ for the local user's home directory).
func setPath(dst *string, name, v string, home bool) error {
	switch {
	case v == "":
		return fmt.Errorf("option %s= is empty: give a path or leave the option out", name)
	case path.IsAbs(v):
	case home && strings.HasPrefix(v, "~/"):
	case home:
		return fmt.Errorf("option %s=%s is not an absolute path: write /path or ~/path", name, v)
	default:
		return fmt.Errorf("option %s=%s is not an absolute path on the remote host: write /path", name, v)
	}
	*dst = path.Clean(v)
	return nil
}
