package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"

	"github.com/urfave/cli/v2"
)

// TestHelp runs the real binary's help for every command: `lab help A B`
// prints what `lab A B --help` prints, no flag's help gives two defaults,
// and every command that does something ends its help with examples of
// commands it has.
func TestHelp(t *testing.T) {
	b := newBattery(t)
	g := &globals{}
	var paths [][]string
	var walk func(prefix []string, cmds []*cli.Command)
	walk = func(prefix []string, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue // the completion scripts' helper
			}
			p := append(slices.Clone(prefix), c.Name)
			paths = append(paths, p)
			walk(p, c.Subcommands)
		}
	}
	walk(nil, commands(g))
	paths = append(paths, nil) // lab itself
	twoDefaults := regexp.MustCompile(`(?i)\(default.*\(default`)
	for _, p := range paths {
		name := strings.Join(append([]string{"lab"}, p...), " ")
		t.Run(name, func(t *testing.T) {
			flagOut, flagErr, flagCode := b.run(t, badInput{args: append(slices.Clone(p), "--help")})
			topicOut, topicErr, topicCode := b.run(t, badInput{args: append([]string{"help"}, p...)})
			if flagCode != 0 || topicCode != 0 || flagErr != "" || topicErr != "" {
				t.Fatalf("exit %d and %d, stderr %q and %q", flagCode, topicCode, flagErr, topicErr)
			}
			if flagOut != topicOut {
				t.Errorf("lab help %s differs from %s --help:\n%s", strings.Join(p, " "), name, golden.DiffLines(flagOut, topicOut))
			}
			if !strings.HasPrefix(flagOut, "NAME:\n   "+name+" ") {
				t.Errorf("%s --help is not its own help:\n%s", name, flagOut)
			}
			for _, line := range strings.Split(flagOut, "\n") {
				if twoDefaults.MatchString(line) {
					t.Errorf("two defaults: %s", line)
				}
				if strings.Contains(line, "(default: false)") {
					t.Errorf("a switch's default: %s", line)
				}
			}
			if len(p) == 0 || strings.Contains(flagOut, "\nCOMMANDS:") {
				return // a group: its help lists its commands
			}
			i := strings.Index(flagOut, "Examples:\n")
			if i < 0 {
				t.Fatalf("%s --help has no examples:\n%s", name, flagOut)
			}
			for _, ex := range strings.Split(strings.SplitN(flagOut[i:], "\n\n", 2)[0], "\n")[1:] {
				if !strings.Contains(ex, name) {
					t.Errorf("example %q does not run %s", ex, name)
				}
			}
		})
	}
}
