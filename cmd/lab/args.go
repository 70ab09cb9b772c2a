package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionFlag is the flag urfave/cli's completion scripts append last;
// it must stay last for the library to see it.
const completionFlag = "--generate-bash-completion"

// level is one command of the path an argument list names: the app itself
// (cmd nil) or a command, with the flags given to it.
type level struct {
	cmd   *cli.Command
	flags []string
}

// reorder puts a command line in the order urfave/cli v2 parses: global
// flags right after the program name, each command's flags right after
// that command, positional arguments last. urfave/cli v2 stops parsing
// flags at the first positional argument and reads a command's flags only
// after its name, so without this `lab disk set k8smaster0 --profile hdd`
// and `lab doctor -o json` fail; users of kind and etcdctl put flags
// anywhere. Everything after "--" is left as it is (lab ssh NODE -- CMD).
//
// `lab help A B` becomes `lab A B --help`, so both print the same help; a
// help topic that names no command is a usage error (exit 2).
//
// Global flags are declared once (globals.flags) and parsed once, by the
// app, so they mean the same wherever they are written.
func reorder(args []string, globalFlags []cli.Flag, cmds []*cli.Command) ([]string, error) {
	if len(args) == 0 {
		return args, nil
	}
	prog, rest := args[0], slices.Clone(args[1:])
	complete := false
	if n := len(rest); n > 0 && rest[n-1] == completionFlag {
		complete, rest = true, rest[:n-1]
	}
	path := []*level{{}}
	var positional []string
	help := false
	sub := cmds // the subcommands the next positional may name
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			name, hasValue := strings.TrimLeft(a, "-"), false
			if k := strings.IndexByte(name, '='); k >= 0 {
				name, hasValue = name[:k], true
			}
			at, f := findFlag(name, path, globalFlags)
			at.flags = append(at.flags, a)
			if f != nil && !hasValue && takesValue(f) && i+1 < len(rest) {
				i++
				at.flags = append(at.flags, rest[i])
			}
			continue
		}
		if len(positional) == 0 && sub != nil {
			if (a == "help" || a == "h") && !help {
				help = true
				continue
			}
			if c := findCommand(a, sub); c != nil {
				path = append(path, &level{cmd: c})
				sub = c.Subcommands
				if len(sub) == 0 {
					sub = nil
				}
				continue
			}
			if help {
				name, _ := commandPath(path)
				return nil, &usageError{cmd: name, usage: usageLine(path),
					problem: "unknown command " + quote(strings.TrimPrefix(name+" "+a, "lab "))}
			}
		}
		positional = append(positional, a)
	}
	out := []string{prog}
	for i, l := range path {
		if i > 0 {
			out = append(out, l.cmd.Name)
		}
		out = append(out, l.flags...)
	}
	if help {
		out = append(out, "--help")
	}
	out = append(out, positional...)
	if complete {
		out = append(out, completionFlag)
	}
	return out, nil
}

// findFlag returns the level a flag belongs to: the innermost command that
// declares it, else the app for a global flag, else the innermost command
// (where urfave/cli reports it as unknown); and the flag, nil if unknown.
// -h and --help belong to the innermost command, which shows its help.
func findFlag(name string, path []*level, globalFlags []cli.Flag) (*level, cli.Flag) {
	last := path[len(path)-1]
	if name == "help" || name == "h" {
		return last, nil
	}
	for i := len(path) - 1; i > 0; i-- {
		for _, f := range path[i].cmd.Flags {
			if slices.Contains(f.Names(), name) {
				return path[i], f
			}
		}
	}
	for _, f := range globalFlags {
		if slices.Contains(f.Names(), name) {
			return path[0], f
		}
	}
	return last, nil
}

func findCommand(name string, cmds []*cli.Command) *cli.Command {
	for _, c := range cmds {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether f reads the next argument as its value (all
// lab's flags but the booleans).
func takesValue(f cli.Flag) bool {
	if v, ok := f.(interface{ TakesValue() bool }); ok {
		return v.TakesValue()
	}
	return true
}

// commandPath is "lab disk set" for the path of a command line.
func commandPath(path []*level) (string, *cli.Command) {
	name := "lab"
	var cmd *cli.Command
	for _, l := range path[1:] {
		name += " " + l.cmd.Name
		cmd = l.cmd
	}
	return name, cmd
}

// usageLine is the usage line of the command a path names, as usageOf
// spells it.
func usageLine(path []*level) string {
	name, cmd := commandPath(path)
	if cmd == nil {
		return "lab [global options] COMMAND [options] [arguments...]"
	}
	return name + " COMMAND [options]"
}

func quote(s string) string { return `"` + s + `"` }
