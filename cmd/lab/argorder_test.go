package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/internal/golden"
)

// TestArgumentOrder runs the real binary with the same command line
// written in several orders: global flags before and after the command,
// positional arguments before and after flags, flag=value and flag value.
// Every order must have the same effect as the first (same stdout, stderr
// and exit status), and that effect must show the flags were read (want).
func TestArgumentOrder(t *testing.T) {
	b := newBattery(t)
	cache := filepath.Join(b.root, "elsewhere-cache")
	state := filepath.Join(b.root, "elsewhere-state")
	table := []struct {
		name   string
		orders [][]string
		code   int
		want   []string // in stdout+stderr
	}{
		{
			name: "cache-dir and output", code: 0, want: []string{"[]"},
			orders: [][]string{
				{"--cache-dir", cache, "-o", "json", "image", "list"},
				{"image", "list", "--cache-dir", cache, "-o", "json"},
				{"image", "--cache-dir", cache, "list", "--output=json"},
				{"-o", "json", "image", "list", "--cache-dir=" + cache},
			},
		},
		{
			name: "cache-dir in text", code: 0, want: []string{"no images in " + cache},
			orders: [][]string{
				{"--cache-dir", cache, "image", "list"},
				{"image", "list", "--cache-dir", cache},
			},
		},
		{
			name: "lab and state-dir", code: 1, want: []string{`no such lab "ghost"`},
			orders: [][]string{
				{"--lab", "ghost", "--state-dir", state, "status"},
				{"status", "--lab", "ghost", "--state-dir", state},
				{"--lab=ghost", "status", "--state-dir=" + state},
			},
		},
		{
			name: "positional before command flags", code: 1, want: []string{`no such lab "ghost"`},
			orders: [][]string{
				{"--lab", "ghost", "disk", "set", "--profile", "hdd", "k8smaster0"},
				{"disk", "set", "k8smaster0", "--profile", "hdd", "--lab", "ghost"},
				{"disk", "set", "k8smaster0", "--lab", "ghost", "--profile=hdd"},
			},
		},
		{
			name: "logs follow after the node", code: 1, want: []string{`no such lab "ghost"`},
			orders: [][]string{
				{"--lab", "ghost", "logs", "-f", "-n", "5", "k8smaster0"},
				{"logs", "k8smaster0", "-f", "-n", "5", "--lab", "ghost"},
				{"logs", "-n", "5", "k8smaster0", "--lab", "ghost", "-f"},
			},
		},
		{
			name: "a bad command flag after the node is still refused", code: 2, want: []string{"unknown flag --nope"},
			orders: [][]string{
				{"logs", "--nope", "k8smaster0"},
				{"logs", "k8smaster0", "--nope"},
			},
		},
		{
			name: "flags after -- belong to the remote command", code: 1, want: []string{`no such lab "ghost"`},
			orders: [][]string{
				{"--lab", "ghost", "ssh", "k8smaster0", "--", "ls", "-la", "--lab", "x"},
				{"ssh", "k8smaster0", "--lab", "ghost", "--", "ls", "-la", "--lab", "x"},
			},
		},
		{
			name: "bad output value after the command", code: 2, want: []string{`--output "yaml" is not supported`},
			orders: [][]string{
				{"-o", "yaml", "image", "list"},
				{"image", "list", "-o", "yaml"},
			},
		},
		{
			name: "verbose and quiet anywhere", code: 2, want: []string{"--verbose and --quiet contradict"},
			orders: [][]string{
				{"-v", "-q", "image", "list"},
				{"-v", "image", "list", "-q"},
				{"image", "-q", "list", "--verbose"},
			},
		},
		{
			name: "connect after the command", code: 2, want: []string{`--connect "qemu+ssh:///system": no host`},
			orders: [][]string{
				{"--connect", "qemu+ssh:///system", "image", "list"},
				{"image", "list", "--connect", "qemu+ssh:///system"},
			},
		},
		{
			name: "help topic and help flag", code: 0, want: []string{"lab disk set - apply a disk profile"},
			orders: [][]string{
				{"help", "disk", "set"},
				{"disk", "set", "--help"},
				{"disk", "set", "-h"},
				{"disk", "help", "set"},
			},
		},
	}
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			var first string
			for i, args := range tc.orders {
				out, errOut, code := b.run(t, badInput{args: args})
				got := "stdout:\n" + out + "stderr:\n" + errOut
				if code != tc.code {
					t.Errorf("lab %s: exit %d, want %d\n%s", strings.Join(args, " "), code, tc.code, got)
				}
				for _, w := range tc.want {
					if !strings.Contains(out+errOut, w) {
						t.Errorf("lab %s: output lacks %q\n%s", strings.Join(args, " "), w, got)
					}
				}
				if i == 0 {
					first = got
				} else if got != first {
					t.Errorf("lab %s differs from lab %s:\n%s", strings.Join(args, " "), strings.Join(tc.orders[0], " "),
						golden.DiffLines(first, got))
				}
			}
		})
	}
}

// TestLabOutputEnv: LAB_OUTPUT sets --output's default, and the flag,
// written anywhere, still wins.
func TestLabOutputEnv(t *testing.T) {
	b := newBattery(t)
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"image", "list"}, "LAB_OUTPUT=json", "[]\n"},
		{[]string{"image", "list", "-o", "text"}, "LAB_OUTPUT=json", ""},
		{[]string{"-o", "json", "image", "list"}, "LAB_OUTPUT=text", "[]\n"},
	} {
		out, errOut, code := b.run(t, badInput{args: c.args, env: []string{c.env}})
		if code != 0 || out != c.want {
			t.Errorf("%s lab %s: exit %d, stdout %q, want %q (stderr %q)", c.env, strings.Join(c.args, " "), code, out, c.want, errOut)
		}
	}
	_, errOut, code := b.run(t, badInput{args: []string{"image", "list"}, env: []string{"LAB_OUTPUT=yaml"}})
	if code != 2 || !strings.Contains(errOut, `"yaml" is not supported`) {
		t.Errorf("LAB_OUTPUT=yaml: exit %d, stderr %q; want 2 and the refusal", code, errOut)
	}
}
