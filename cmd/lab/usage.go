package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/spec"
)

// Exit statuses, documented in `lab --help`: a script can tell a typo from a
// failed operation.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitSignal  = 130 // 128 + SIGINT, what a shell reports for Ctrl-C
	exitHelpTxt = `Exit status:
   0    success
   1    the operation failed (and a failed check: doctor, check perf, --strict)
   2    bad usage: an unknown command or flag, a malformed or out-of-range value;
        nothing was made or changed
   130  interrupted: Ctrl-C once stops after the current step, twice at once;
        'lab destroy' removes what was made`
)

// usageError is a command line lab cannot act on: the problem, the usage
// line and where the help is. It exits 2.
type usageError struct {
	cmd     string // "lab", "lab create"
	usage   string // "lab create [command options]"
	problem string
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%s\nusage: %s\nrun '%s --help' for the details", e.problem, e.usage, e.cmd)
}

// ExitCode is 2, the convention for bad usage.
func (e *usageError) ExitCode() int { return exitUsage }

// usageOf returns the name path of the command c runs ("lab etcd fetch")
// and its usage line ("lab etcd fetch [options]").
func usageOf(c *cli.Context) (name, usage string) {
	var path []string
	var cmd *cli.Command
	if c != nil {
		for _, x := range c.Lineage() {
			if x.Command == nil || x.Command.Name == "" || x.Command.Name == "lab" {
				continue
			}
			if cmd == nil {
				cmd = x.Command
			}
			path = append([]string{x.Command.Name}, path...)
		}
	}
	name = strings.Join(append([]string{"lab"}, path...), " ")
	switch {
	case cmd == nil:
		return name, "lab [global options] COMMAND [options] [arguments...]"
	case hasSubcommands(cmd):
		return name, name + " COMMAND [options]"
	case cmd.ArgsUsage != "":
		return name, name + " [options] " + cmd.ArgsUsage
	}
	return name, name + " [options]"
}

// hasSubcommands ignores the help command urfave/cli adds to every command.
func hasSubcommands(cmd *cli.Command) bool {
	for _, s := range cmd.Subcommands {
		if s.Name != "help" {
			return true
		}
	}
	return false
}

// newUsageError is a usageError for the command c runs.
func newUsageError(c *cli.Context, format string, args ...any) error {
	name, usage := usageOf(c)
	return &usageError{cmd: name, usage: usage, problem: fmt.Sprintf(format, args...)}
}

// onUsageError turns urfave/cli's flag parsing errors (unknown flag,
// malformed value) into a usageError instead of the whole help on stdout.
func onUsageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	// The flag package spells flags with one dash; lab's help uses two.
	msg = strings.Replace(msg, "flag provided but not defined: -", "unknown flag --", 1)
	if strings.HasPrefix(msg, "invalid value") {
		msg = strings.Replace(msg, " for flag -", " for flag --", 1)
	}
	return newUsageError(c, "%s", msg)
}

// prepareUsage walks the command tree: every command reports flag errors as
// usage errors, an unknown subcommand is a usage error, and a required flag
// that is missing is one too (urfave/cli would print the whole help on
// stdout).
func (g *globals) prepareUsage(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.OnUsageError = onUsageError
		tidyFlags(cmd.Flags)
		var required []string
		for _, f := range cmd.Flags {
			if r, ok := f.(cli.RequiredFlag); ok && r.IsRequired() {
				required = append(required, f.Names()[0])
				clearRequired(f)
			}
		}
		if len(required) > 0 {
			before := cmd.Before
			cmd.Before = func(c *cli.Context) error {
				for _, name := range required {
					if !c.IsSet(name) {
						return newUsageError(c, "flag --%s is required", name)
					}
				}
				if before != nil {
					return before(c)
				}
				return nil
			}
		}
		if len(cmd.Subcommands) > 0 {
			g.prepareUsage(cmd.Subcommands)
			if cmd.Action == nil {
				cmd.Action = g.groupAction
			}
		} else if cmd.ArgsUsage == "" && cmd.Action != nil {
			cmd.Action = noArgs(cmd.Action)
		}
	}
}

// noArgs refuses arguments to a command that takes none: `lab destroy
// mylab` would otherwise destroy the lab --lab names (kthw by default), not
// mylab.
func noArgs(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Present() {
			fix := "it takes no arguments"
			if a := c.Args().First(); c.Command.Name == "destroy" || c.Command.Name == "status" || c.Command.Name == "create" {
				fix = fmt.Sprintf("name the lab with the global flag: lab %s --lab %s", c.Command.Name, a)
			}
			return newUsageError(c, "unexpected argument %q: %s", c.Args().First(), fix)
		}
		return action(c)
	}
}

// clearRequired makes f optional: the Before hook checks it instead.
func clearRequired(f cli.Flag) {
	switch f := f.(type) {
	case *cli.StringFlag:
		f.Required = false
	case *cli.IntFlag:
		f.Required = false
	case *cli.DurationFlag:
		f.Required = false
	case *cli.BoolFlag:
		f.Required = false
	case *cli.StringSliceFlag:
		f.Required = false
	}
}

// groupAction runs for a command that only groups others ("lab image")
// when no subcommand was named, or an unknown one: help for the first, a
// usage error for the second.
func (g *globals) groupAction(c *cli.Context) error {
	if c.Args().Present() {
		return newUsageError(c, "unknown command %q", c.Command.Name+" "+c.Args().First())
	}
	return cli.ShowSubcommandHelp(c)
}

// commandNotFound records an unknown command; run returns it, since
// urfave/cli's hook cannot return an error.
func (g *globals) commandNotFound(c *cli.Context, name string) {
	if g.usageErr == nil {
		g.usageErr = newUsageError(c, "unknown command %q", name)
	}
}

// isUsage reports whether err is bad input rather than a failed operation:
// a usage error, or a value the lab's checks refused before anything was
// made (a *spec.FieldError).
func isUsage(err error) bool {
	var u *usageError
	var f *spec.FieldError
	var in *lab.InputError
	return errors.As(err, &u) || errors.As(err, &f) || errors.As(err, &in)
}

// refuse is a flag's value refused before anything runs: exit 2, with the
// flag, the value, the problem and the fix.
func refuse(flag string, value any, problem, fix string) error {
	return &spec.FieldError{Flag: flag, Value: fmt.Sprint(value), Problem: problem, Fix: fix}
}
