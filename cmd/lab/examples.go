package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// examples are the command lines every command's help ends with, by the
// command's path. They live here, apart from the commands, so one table
// shows they are written alike; TestHelp fails for a command without one.
var examples = map[string][]string{
	"doctor":             {"lab doctor", `lab doctor -o json | jq '.checks[] | select(.status == "fail")'`},
	"image build":        {"sudo lab image build", "lab image build --mirror http://deb.debian.org/debian --force"},
	"image fetch":        {"lab image fetch", "lab image fetch --distro ubuntu-24.04"},
	"image list":         {"lab image list", "lab image list -o json"},
	"etcd build":         {"lab etcd build", "lab etcd build --force"},
	"etcd fetch":         {"lab etcd fetch --version v3.5.17", "lab etcd fetch --from debian --version v3.4.23"},
	"etcd list":          {"lab etcd list -o json"},
	"render":             {"lab render --out ./rendered", "lab render --out ./rendered --nodes 1 --subnet 192.168.183.0/24"},
	"create":             {"sudo lab create", "lab create --lab ux --nodes 1 --accel tcg --subnet 192.168.183.0/24"},
	"status":             {"lab status", "lab status -o json | jq .degraded"},
	"list":               {"lab list", "lab list -o json"},
	"check perf":         {"lab check perf", "lab check perf --load m --duration 20s -o json"},
	"ssh":                {"lab ssh k8smaster0", "lab ssh k8smaster1 -- systemctl is-active etcd"},
	"logs":               {"lab logs k8smaster0 -n 50", "lab logs k8smaster0 -f"},
	"env":                {`eval "$(lab env)"; etcdctl member list -w table`},
	"disk set":           {"lab disk set k8smaster0 --profile hdd", "lab disk set --all --profile hdd --fsync-latency 500ms", "lab disk set --all --profile ssd"},
	"disk probe":         {"lab disk probe", "lab disk probe k8smaster0 --count 50 -o json"},
	"scenario list":      {"lab scenario list"},
	"scenario slow-disk": {"lab scenario slow-disk --create", "lab scenario slow-disk --arms ssd,hdd --duration short --out ./report"},
	"scenario threshold-map": {"lab scenario threshold-map --fsync 10ms,1s --election 1s,10s --versions v3.6.16 --cell-duration 30s",
		"lab scenario threshold-map --shard 2/4 --out ./map-2"},
	"report merge": {"lab report merge --out ./map ./map-1 ./map-2 ./map-3 ./map-4"},
	"export":       {"lab export lab-evidence", "lab export --lab ux /tmp/ux-evidence"},
	"destroy":      {"lab destroy", "lab destroy --lab ux"},
	"version":      {"lab version", "lab version -o json"},
	"completion":   {`eval "$(lab completion bash)"`, "lab completion fish > ~/.config/fish/completions/lab.fish"},
}

// addExamples appends the examples of every command under prefix ("" for
// the app) to its description, where urfave/cli's help prints them.
func addExamples(cmds []*cli.Command, prefix string) {
	for _, cmd := range cmds {
		path := strings.TrimSpace(prefix + " " + cmd.Name)
		if ex := examples[path]; len(ex) > 0 {
			text := "Examples:\n   " + strings.Join(ex, "\n   ")
			if cmd.Description == "" {
				cmd.Description = text
			} else {
				cmd.Description = strings.TrimRight(cmd.Description, "\n") + "\n\n" + text
			}
		}
		addExamples(cmd.Subcommands, path)
	}
}

// tidyFlags gives every flag one default in its help: a boolean's
// "(default: false)" is dropped (a switch is off unless given; lab's help
// says so in the usage when it is not).
func tidyFlags(flags []cli.Flag) {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
}
