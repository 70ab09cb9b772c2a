package slowdisk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	labssh "github.com/kthw-lab/lab/lab/ssh"
)

// backoff bounds the retries of one call inside an arm: on a busy
// two-core host a guest's sshd or a restarting etcd member can miss one
// handshake deadline or refuse a connection for a few seconds, which must
// not cost the arm. Five attempts over about 30 s, then the error stands.
type backoff struct {
	Attempts int
	First    time.Duration
	Max      time.Duration
}

// defaultBackoff is what the runner uses: 2 s, 4 s, 8 s, 15 s between the
// five attempts.
var defaultBackoff = backoff{Attempts: 5, First: 2 * time.Second, Max: 15 * time.Second}

// retry calls f until it succeeds, fails with an error that is not
// transient, or b's attempts are used up. The error says how often it was
// tried, after what (when not empty).
func (b backoff) retry(ctx context.Context, what string, f func(context.Context) error) error {
	wait := b.First
	prefix := ""
	if what != "" {
		prefix = what + ": "
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = f(ctx)
		if err == nil || !transient(ctx, err) {
			return err
		}
		if attempt >= max(b.Attempts, 1) {
			return fmt.Errorf("%sstill failing after %d attempts: %w", prefix, attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s%w (then interrupted: %w)", prefix, err, context.Cause(ctx))
		case <-time.After(wait):
		}
		wait = min(2*wait, b.Max)
	}
}

// transient reports whether err is worth another try: the connection could
// not be made or was cut (a handshake deadline, a refused or reset
// connection, an unreachable guest), not a command that ran and failed, a
// host key that does not match, or the caller's context ending.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var remote *labssh.RemoteError
	var hostKey *labssh.HostKeyError
	if errors.As(err, &remote) || errors.As(err, &hostKey) {
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), // a dial's own deadline
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr) && netErr.Timeout():
		return true
	}
	return false
}
