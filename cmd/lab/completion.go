package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kthw-lab/lab/lab"
)

// The shells' scripts ask lab itself what may come next: urfave/cli answers
// --generate-bash-completion with the commands and flags at that point (and
// a command's own BashComplete, for the node names), and the hidden
// `lab completion names` gives what a flag's value may be.
const bashCompletion = `# lab completion for bash: eval "$(lab completion bash)"
_lab_complete() {
  local cur prev opts
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [[ "$prev" == "--lab" ]]; then
    opts=$("${COMP_WORDS[0]}" completion names labs 2>/dev/null)
  elif [[ "$cur" == -* ]]; then
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
  return 0
}
complete -o bashdefault -o default -F _lab_complete lab
`

const zshCompletion = `#compdef lab
# lab completion for zsh: lab completion zsh > "${fpath[1]}/_lab"
_lab() {
  local -a opts
  local cur=${words[-1]}
  if [[ "${words[-2]}" == "--lab" ]]; then
    opts=("${(@f)$(${words[1]} completion names labs 2>/dev/null)}")
  elif [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _lab lab
`

// fishExtra adds to urfave/cli's static fish script what only lab knows at
// completion time: the labs in the state directory and the chosen lab's
// nodes.
const fishExtra = `
complete -c lab -l lab -x -a '(lab completion names labs 2>/dev/null)'
complete -c lab -n '__fish_seen_subcommand_from ssh logs set probe' -x -a '(lab (string match -r -- "--lab=?\S*|--state-dir=?\S*" (commandline -opc)) completion names nodes 2>/dev/null)'
`

func completionCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes lab's commands, flags, the labs in the state
directory (--lab) and the chosen lab's nodes (ssh, logs, disk set, disk probe):

   eval "$(lab completion bash)"                       # this shell; or in ~/.bashrc
   lab completion zsh > "${fpath[1]}/_lab"             # then restart zsh
   lab completion fish > ~/.config/fish/completions/lab.fish`,
		Subcommands: []*cli.Command{completionNamesCommand(g)},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return newUsageError(c, "name the shell: bash, zsh or fish")
			}
			switch shell := c.Args().First(); shell {
			case "bash":
				_, err := fmt.Fprint(g.streams.out, bashCompletion)
				return err
			case "zsh":
				_, err := fmt.Fprint(g.streams.out, zshCompletion)
				return err
			case "fish":
				script, err := c.App.ToFishCompletion()
				if err != nil {
					return fmt.Errorf("writing the fish completion: %w", err)
				}
				_, err = fmt.Fprint(g.streams.out, script+fishExtra)
				return err
			default:
				return newUsageError(c, "%q is not a shell lab completes: use bash, zsh or fish", shell)
			}
		},
	}
}

// completionNamesCommand is what the scripts call for a flag's value.
func completionNamesCommand(g *globals) *cli.Command {
	return &cli.Command{
		Name:      "names",
		Hidden:    true,
		ArgsUsage: "labs|nodes",
		Action: func(c *cli.Context) error {
			var names []string
			switch c.Args().First() {
			case "labs":
				names = lab.StoredNames(g.StateDir)
			case "nodes":
				names = g.nodeNames()
			default:
				return newUsageError(c, "labs or nodes")
			}
			if len(names) > 0 {
				fmt.Fprintln(g.streams.out, strings.Join(names, "\n"))
			}
			return nil
		},
	}
}

// nodeNames are the chosen lab's nodes, or none.
func (g *globals) nodeNames() []string {
	store, err := g.store()
	if err != nil {
		return nil
	}
	st, err := store.Load()
	if err != nil {
		return nil
	}
	return st.Plan.NodeNames()
}

// completeNodes is the BashComplete of commands that take node names: the
// command's flags after a dash (urfave/cli reads the word from os.Args),
// else the chosen lab's nodes.
func (g *globals) completeNodes(c *cli.Context) {
	if len(os.Args) > 2 && strings.HasPrefix(os.Args[len(os.Args)-2], "-") {
		cli.DefaultCompleteWithFlags(c.Command)(c)
		return
	}
	for _, n := range g.nodeNames() {
		fmt.Fprintln(c.App.Writer, n)
	}
}
