package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/kthw-lab/lab/lab/etcd"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/virt"
	"github.com/kthw-lab/lab/lab/wait"
	"github.com/kthw-lab/lab/progress"
)

// Timeouts of create's waits. TCG guests reach SSH in 50–80 s here; the
// limits leave room for a loaded machine.
const (
	DomainTimeout = time.Minute
	// ReadyTimeout bounds the wait for a node's readiness message on its
	// console, from the domain's start.
	ReadyTimeout = 8 * time.Minute
	// SSHTimeout bounds the wait for SSH and cloud-init's account of the
	// seed: after the readiness message sshd is starting; without a
	// console log (a remote host) it is the whole boot.
	SSHTimeout    = 8 * time.Minute
	QuorumTimeout = 4 * time.Minute
)

// nodePoll is how often create looks at a node's console and tries its
// SSH port: a read of a local file and, until sshd listens, a refused
// connection cost next to nothing, and a second's poll was up to a second
// of create's time per step.
const nodePoll = 250 * time.Millisecond

// quorumPoll is how often create asks the members for the quorum once
// every console said ready: each try is a TLS handshake with each member,
// which an emulated guest pays for while etcd is starting.
const quorumPoll = 500 * time.Millisecond

// NodeWaiter waits for real VMs: each a named condition with a deadline.
type NodeWaiter struct {
	Progress *progress.Printer
}

// Wait waits for the domains to run, then per node (in parallel) for the
// node's readiness message on its console (cloud-init has run the seed),
// then SSH with the pinned host key and, on the same connection,
// cloud-init's own account of the seed. Once every console said ready it
// also waits for the etcd quorum, beside the SSH waits: etcd starts when
// the seed ends, with sshd. Nothing polls the guest before its console
// says it is ready, and nothing sleeps: each wait checks its condition
// until it holds.
func (w NodeWaiter) Wait(ctx context.Context, l *Lab) error {
	st := l.State
	prov, err := l.Libvirt(ctx)
	if err != nil {
		return err
	}
	boot := &BootTimeline{Started: time.Now().UTC(), Nodes: make([]NodeBoot, len(st.Plan.Nodes))}
	var running []wait.Condition
	for _, n := range st.Plan.Nodes {
		running = append(running, domainRunning(prov, n))
	}
	if err := wait.All(ctx, w.Progress, DomainTimeout, running...); err != nil {
		return err
	}
	cfg, err := l.EtcdConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ready sync.WaitGroup
	ready.Add(len(st.Plan.Nodes))
	var quorumErr error
	quorum := make(chan struct{})
	go func() {
		defer close(quorum)
		// Every waitNode calls ready, at the latest when it returns.
		ready.Wait()
		if quorumErr = ctx.Err(); quorumErr != nil {
			return
		}
		cond := etcd.QuorumCondition(cfg, st.Plan.NodeNames())
		if quorumErr = wait.Until(ctx, w.Progress, cond, QuorumTimeout, quorumPoll); quorumErr == nil {
			boot.Quorum = time.Since(boot.Started).Round(time.Millisecond)
		}
	}()
	errs := make([]error, len(st.Plan.Nodes))
	var wg sync.WaitGroup
	for i, n := range st.Plan.Nodes {
		wg.Go(func() { boot.Nodes[i], errs[i] = w.waitNode(ctx, l, n, boot.Started, sync.OnceFunc(ready.Done)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		cancel()
		<-quorum
		return err
	}
	<-quorum
	if quorumErr != nil {
		return quorumErr
	}
	st.Boot = boot
	return nil
}

// waitNode waits for one node: its console, then SSH and cloud-init, and
// says when each held, from started. It calls ready once the console says
// the node is ready (without a console, once cloud-init has run the seed),
// or when it gives up.
func (w NodeWaiter) waitNode(ctx context.Context, l *Lab, n spec.Node, started time.Time, ready func()) (NodeBoot, error) {
	defer ready()
	b := NodeBoot{Node: n.Name}
	since := func() time.Duration { return time.Since(started).Round(time.Millisecond) }
	cfg, err := l.SSHConfig(n)
	if err != nil {
		return b, err
	}
	hint := consoleHint(l.State, l.Store, n)
	if log := consoleLog(l.State, l.Store, n.Name); log != "" {
		err := wait.Until(ctx, w.Progress, nodeReady(log, n), ReadyTimeout, nodePoll)
		if _, ok := errors.AsType[*wait.TimeoutError](err); ok {
			return b, notReadyError(err, log)
		}
		if err != nil {
			return b, err
		}
		b.Ready = since()
		ready()
	}
	var ssh time.Duration
	cond := seedApplied(cfg, n, hint, func() { ssh = since() })
	if err := wait.Until(ctx, w.Progress, cond, SSHTimeout, nodePoll); err != nil {
		if _, ok := errors.AsType[*wait.TimeoutError](err); ok {
			return b, fmt.Errorf("%w%s", err, hint)
		}
		return b, err
	}
	b.SSH, b.CloudInit = ssh, since()
	return b, nil
}

func domainRunning(prov *virt.Provider, n spec.Node) wait.Condition {
	return wait.Condition{
		Name: "domain " + n.Domain + " running",
		Check: func(ctx context.Context) error {
			state, err := prov.DomainState(ctx, n.Domain)
			if err != nil {
				return err
			}
			switch state {
			case virt.StateRunning:
				return nil
			case virt.StateShutOff, virt.StateCrashed, virt.StateAbsent:
				return wait.Permanent(fmt.Errorf("domain %s is %s", n.Domain, state))
			}
			return fmt.Errorf("domain %s is %s", n.Domain, state)
		},
	}
}

// consoleHint says where to read node's console after a failed wait.
func consoleHint(st *State, store Store, n spec.Node) string {
	if log := consoleLog(st, store, n.Name); log != "" {
		return "\n(console log: " + log + ")"
	}
	return fmt.Sprintf("\n(console: virsh -c '%s' console %s)", st.Connect, n.Domain)
}

// HostPrefixes lists the networks of this host's interfaces (other than
// loopback) as named prefixes for the subnet overlap check.
func HostPrefixes() ([]spec.NamedPrefix, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing host interfaces: %w", err)
	}
	var out []spec.NamedPrefix
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			ones, _ := ipn.Mask.Size()
			p, err := netipPrefix(ipn.IP.To4(), ones)
			if err == nil {
				out = append(out, spec.NamedPrefix{Kind: "host interface", Name: ifc.Name, Prefix: p})
			}
		}
	}
	routes, err := os.ReadFile("/proc/net/route")
	if err == nil {
		out = append(out, parseRoutes(string(routes))...)
	}
	return out, nil
}
