package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// Messages of the two interrupts. The first lets the current step finish:
// a libvirt call cut in half could leave an object the state does not
// record yet. The second does not wait; the state, written before each
// object is made, still tells 'lab destroy' what exists.
const (
	firstInterrupt  = "lab: interrupted: finishing the current step; press Ctrl-C again to exit now"
	secondInterrupt = "lab: interrupted again: exiting now; 'lab destroy' removes what was made"
)

// interrupts is how the process reacts to SIGINT and SIGTERM.
type interrupts struct {
	ctx    context.Context
	cancel context.CancelFunc
	sigs   chan os.Signal
	got    atomic.Bool
}

// handleInterrupts returns a context that the first SIGINT or SIGTERM
// cancels, saying so on stderr; a second one calls exit(130) at once.
func handleInterrupts(parent context.Context, stderr io.Writer, exit func(int)) *interrupts {
	ctx, cancel := context.WithCancel(parent)
	in := &interrupts{ctx: ctx, cancel: cancel, sigs: make(chan os.Signal, 2)}
	signal.Notify(in.sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-in.sigs; !ok {
			return
		}
		in.got.Store(true)
		fmt.Fprintln(stderr, firstInterrupt)
		cancel()
		if _, ok := <-in.sigs; !ok {
			return
		}
		fmt.Fprintln(stderr, secondInterrupt)
		exit(exitSignal)
	}()
	return in
}

// interrupted reports whether a signal cancelled the context.
func (in *interrupts) interrupted() bool { return in.got.Load() }

// stop stops listening; signals after it have their default effect.
func (in *interrupts) stop() {
	signal.Stop(in.sigs)
	close(in.sigs)
	in.cancel()
}

// exitStatus is code, or 130 for a run that an interrupt ended early
// with an error (most often the context's).
func (in *interrupts) exitStatus(code int) int {
	if code != exitOK && in.interrupted() {
		return exitSignal
	}
	return code
}
