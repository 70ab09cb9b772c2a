// Command lab builds a three-node etcd control plane of "Kubernetes the hard
// way" in libvirt VMs and reproduces the leader-election failure a slow disk
// causes. See `lab --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	in := handleInterrupts(context.Background(), os.Stderr, os.Exit)
	err := run(in.ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	in.stop()
	os.Exit(in.exitStatus(exitCode(err, os.Stderr)))
}

// exitCode prints err and maps it to the process exit status: 0 for none,
// the code an ExitCoder carries, 2 for bad input (see isUsage), 1 otherwise.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "lab:", msg)
		}
		return coder.ExitCode()
	}
	fmt.Fprintln(stderr, "lab:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailed
}
