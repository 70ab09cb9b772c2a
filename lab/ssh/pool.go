package ssh

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Pool keeps one connection per node for a run of many short commands (a
// scenario arm runs a dozen on every node): under emulation each SSH
// handshake costs the guest a second or two of CPU, a session on an open
// connection a few milliseconds. The zero Pool is ready to use; Close it
// when done.
type Pool struct {
	mu    sync.Mutex
	nodes map[string]*pooled
}

// pooled is one node's connection; mu serialises its dialing, so nodes
// are dialled in parallel and each only once.
type pooled struct {
	mu sync.Mutex
	c  *Client
}

// aliveTimeout bounds the check that a kept connection still answers.
const aliveTimeout = 5 * time.Second

// Get returns the pool's connection to cfg.Addr when it still answers,
// and otherwise dials one (DialRetry with attempts). The connection is
// shared: do not Close it; Drop it after an error that may have broken it.
func (p *Pool) Get(ctx context.Context, cfg Config, attempts int) (*Client, error) {
	p.mu.Lock()
	if p.nodes == nil {
		p.nodes = map[string]*pooled{}
	}
	e := p.nodes[cfg.Addr]
	if e == nil {
		e = &pooled{}
		p.nodes[cfg.Addr] = e
	}
	p.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c != nil {
		if e.c.alive(ctx) {
			return e.c, nil
		}
		e.c.Close()
		e.c = nil
	}
	c, err := DialRetry(ctx, cfg, attempts)
	if err != nil {
		return nil, err
	}
	e.c = c
	return c, nil
}

// Drop closes c and forgets it, so the next Get dials afresh: for a
// connection that failed other than by its command's exit status.
func (p *Pool) Drop(c *Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.nodes {
		if e.c == c {
			e.c = nil
		}
	}
	c.Close()
}

// Close closes every connection of the pool.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for addr, e := range p.nodes {
		if e.c != nil {
			errs = append(errs, e.c.Close())
		}
		delete(p.nodes, addr)
	}
	return errors.Join(errs...)
}

// alive asks the node for a reply on the connection (OpenSSH answers an
// unknown global request with a failure, which is an answer): a kept
// connection whose guest rebooted or whose tunnel broke gets none.
func (c *Client) alive(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, aliveTimeout)
	defer cancel()
	answered := make(chan bool, 1)
	go func() {
		_, _, err := c.conn.SendRequest("keepalive@openssh.com", true, nil)
		answered <- err == nil
	}()
	select {
	case ok := <-answered:
		return ok
	case <-ctx.Done():
		// Closing is what unblocks the request.
		c.Close()
		return false
	}
}

// Broken tells whether err, from a command run on a connection, may mean
// the connection itself failed (rather than the command, which exited
// with a status): the connection should then be dropped.
func Broken(err error) bool {
	if err == nil {
		return false
	}
	re, ok := errors.AsType[*RemoteError](err)
	return !ok || re.ExitStatus < 0
}
