package tunnel

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"

	"path/filepath"
	"strconv"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError is returned (wrapped) when the remote host's key is not in
// known_hosts, or differs from the one there.
type HostKeyError struct {
	Host       string // host or [host]:port, as known_hosts writes it
	KnownHosts string // the file checked
	Got        ssh.PublicKey
	// Known are the keys known_hosts has for the host; none means the host
	// is unknown.
	Known []knownhosts.KnownKey
}

func (e *HostKeyError) Error() string {
	fp := ssh.FingerprintSHA256(e.Got)
	if len(e.Known) == 0 {
		return fmt.Sprintf("host %s is not in %s (it offers %s key %s): check that fingerprint with the host's owner, then add the host with `%s >> %s` (or ssh to it once and answer yes)",
			e.Host, e.KnownHosts, e.Got.Type(), fp, e.keyscan(), e.KnownHosts)
	}
	k := e.Known[0]
	return fmt.Sprintf("HOST KEY MISMATCH for %s: it offers %s key %s, but %s:%d has %s key %s; someone may be intercepting the connection. If the host was reinstalled, remove the old key with `ssh-keygen -R '%s' -f %s` and add the new one with `%s >> %s`",
		e.Host, e.Got.Type(), fp, k.Filename, k.Line, k.Key.Type(), ssh.FingerprintSHA256(k.Key), e.Host, e.KnownHosts, e.keyscan(), e.KnownHosts)
}

func (e *HostKeyError) keyscan() string {
	host, port, err := net.SplitHostPort(e.Host)
	if err != nil {
		return "ssh-keyscan " + e.Host
	}
	return "ssh-keyscan -p " + port + " " + host
}

// hostKeys returns the callback that checks the remote host's key against
// known_hosts, and the key algorithms to ask for: those of the keys known
// for the host, so that a host with several keys presents the one on file.
func (t *Tunnel) hostKeys() (ssh.HostKeyCallback, []string, error) {
	file := t.expand(t.target.KnownHosts)
	if t.target.KnownHosts == "" {
		file = filepath.Join(t.local.home, ".ssh", "known_hosts")
	}
	host := knownhosts.Normalize(t.target.Addr())
	check, err := knownhosts.New(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("known_hosts file %s does not exist, so the key of %s cannot be checked: create it with `%s >> %s` after checking the fingerprint (or ssh to the host once), or point known_hosts= at a file that has it",
			file, host, (&HostKeyError{Host: host}).keyscan(), file)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading known_hosts: %w", err)
	}
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostname, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			return &HostKeyError{Host: host, KnownHosts: file, Got: key, Known: ke.Want}
		}
		return err
	}
	return cb, knownAlgorithms(check, t.target), nil
}

// knownAlgorithms asks known_hosts which key types it has for the target,
// by checking a key that cannot match.
func knownAlgorithms(check ssh.HostKeyCallback, tg Target) []string {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	remote := &net.TCPAddr{IP: net.ParseIP(tg.Host), Port: tg.Port}
	if remote.IP == nil {
		remote.IP = net.IPv4zero
	}
	var ke *knownhosts.KeyError
	if !errors.As(check(net.JoinHostPort(tg.Host, strconv.Itoa(tg.Port)), remote, probe), &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

// algorithmsFor maps a key type to the signature algorithms that carry it.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
