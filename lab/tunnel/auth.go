package tunnel

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultKeys are tried, when present, if the URI names no keyfile=, in
// OpenSSH's order.
var defaultKeys = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// auth returns the public-key methods to offer: the agent's keys first,
// then the key files. tried names them for the error when the host refuses
// all; done closes the agent connection after the handshake.
func (t *Tunnel) auth() (methods []ssh.AuthMethod, tried []string, done func(), err error) {
	done = func() {}
	var skipped []error
	if sock := t.local.agentSock; sock != "" {
		if c, err := net.Dial("unix", sock); err == nil {
			methods = append(methods, ssh.PublicKeysCallback(agent.NewClient(c).Signers))
			tried = append(tried, "the agent's keys")
			done = func() { c.Close() }
		} else {
			skipped = append(skipped, fmt.Errorf("SSH agent at $SSH_AUTH_SOCK: %w", err))
		}
	}
	files := []string{t.expand(t.target.KeyFile)}
	if t.target.KeyFile == "" {
		files = files[:0]
		for _, k := range defaultKeys {
			files = append(files, filepath.Join(t.local.home, ".ssh", k))
		}
	}
	var signers []ssh.Signer
	for _, f := range files {
		s, err := readKey(f)
		switch {
		case errors.Is(err, fs.ErrNotExist) && t.target.KeyFile == "":
			continue
		case err != nil:
			if t.target.KeyFile != "" && len(methods) == 0 {
				done()
				return nil, nil, nil, fmt.Errorf("no SSH key to log in with: keyfile=%s: %w", t.target.KeyFile, err)
			}
			skipped = append(skipped, err)
			continue
		}
		signers = append(signers, s)
		tried = append(tried, f)
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if len(methods) == 0 {
		why := errors.Join(skipped...)
		if why == nil {
			why = errors.New("no SSH agent ($SSH_AUTH_SOCK is unset) and none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa exists")
		}
		return nil, nil, nil, fmt.Errorf("no SSH key to log in with: load one into an agent (`eval $(ssh-agent); ssh-add`) or give keyfile=/path/to/key: %w", why)
	}
	return methods, tried, done, nil
}

// readKey reads an unencrypted private key. An encrypted one cannot be
// used without a prompt, which the lab never shows.
func readKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading SSH key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	var pass *ssh.PassphraseMissingError
	if errors.As(err, &pass) {
		return nil, fmt.Errorf("SSH key %s has a passphrase: load it into the agent with `ssh-add %s`", path, path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading SSH key %s: %w", path, err)
	}
	return s, nil
}
