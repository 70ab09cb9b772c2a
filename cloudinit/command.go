package cloudinit

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Command is a bootcmd or runcmd entry: either a shell line or an argument
// list. cloud-init writes all of a module's entries into one /bin/sh
// script, quoting argument lists, and the module fails if the script's
// last command does; a line that must stop the rest should end in
// "|| exit 1".
type Command struct {
	Shell string
	Args  []string
}

// Shell returns a command that is one line of shell.
func Shell(line string) Command { return Command{Shell: line} }

// Exec returns a command run with these arguments, without shell
// interpretation.
func Exec(args ...string) Command { return Command{Args: args} }

// MarshalYAML writes a string or a list of strings.
func (c Command) MarshalYAML() (any, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Args != nil {
		return c.Args, nil
	}
	return c.Shell, nil
}

// UnmarshalYAML reads a string or a list of strings.
func (c *Command) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*c = Command{}
		return n.Decode(&c.Shell)
	case yaml.SequenceNode:
		*c = Command{}
		return n.Decode(&c.Args)
	}
	return fmt.Errorf("line %d: a command is a string or a list of strings", n.Line)
}

func (c Command) validate() error {
	switch {
	case c.Shell != "" && c.Args != nil:
		return errors.New("command has both a shell line and arguments")
	case c.Shell == "" && len(c.Args) == 0:
		return errors.New("command is empty")
	}
	return nil
}
