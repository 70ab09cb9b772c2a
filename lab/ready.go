package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/kthw-lab/lab/cloudinit"
	"github.com/kthw-lab/lab/lab/spec"
	labssh "github.com/kthw-lab/lab/lab/ssh"
	"github.com/kthw-lab/lab/lab/wait"
)

// bootBanner is the kernel's first console line of every boot. The console
// log is appended to across boots (a resumed create, a restart), so only
// what follows the last banner belongs to the boot being waited for.
const bootBanner = "Linux version "

// consoleTail is how much of a console log a readiness check reads: the
// end of a first boot fits in it many times over.
const consoleTail = 256 << 10

// consoleFailures are console lines after which the node cannot become
// ready by waiting.
var consoleFailures = []string{
	"Kernel panic - not syncing",
	"You are in emergency mode",
	// systemd shortens long status lines: "cloud-init.servi…".
	"Failed to start cloud-init",
}

// nodeReady holds when node's console shows cloud-init's ReadyMessage in
// the current boot: every module of the seed has run (successfully or not:
// the status check after says which). It reads the log file virtlogd
// writes, so the wait costs the guest nothing and starts SSH only when
// sshd is about to listen.
func nodeReady(path string, n spec.Node) wait.Condition {
	return wait.Condition{
		Name: "node " + n.Name + " ready (console)",
		Check: func(context.Context) error {
			boot, err := currentBoot(path)
			if err != nil {
				return err
			}
			for _, f := range consoleFailures {
				if i := bytes.Index(boot, []byte(f)); i >= 0 {
					return wait.Permanent(fmt.Errorf("%s: the console shows %q:\n%s\n(console log: %s)",
						n.Name, f, lastLines(boot, 15), path))
				}
			}
			if bytes.Contains(boot, []byte(cloudinit.ReadyMarker)) {
				return nil
			}
			if len(boot) == 0 {
				return fmt.Errorf("%s: no console output yet", n.Name)
			}
			return fmt.Errorf("%s: not ready yet; last console line: %s", n.Name, strings.TrimSpace(lastLines(boot, 1)))
		},
	}
}

// notReadyError adds to a failed readiness wait what the console showed
// last and where the whole log is.
func notReadyError(err error, path string) error {
	boot, rerr := currentBoot(path)
	if rerr != nil || len(boot) == 0 {
		return fmt.Errorf("%w\n(console log: %s)", err, path)
	}
	return fmt.Errorf("%w\nthe console ends with:\n%s\n(console log: %s)", err, lastLines(boot, 15), path)
}

// currentBoot returns the console log from the last boot banner on (all of
// it when there is none yet), reading at most consoleTail bytes, without
// escape sequences.
func currentBoot(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the console log: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the console log: %w", err)
	}
	if info.Size() > consoleTail {
		if _, err := f.Seek(info.Size()-consoleTail, io.SeekStart); err != nil {
			return nil, fmt.Errorf("reading the console log: %w", err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading the console log: %w", err)
	}
	if i := bytes.LastIndex(data, []byte(bootBanner)); i >= 0 {
		data = data[i:]
	}
	return stripEscapes(data), nil
}

// lastLines returns the last n non-empty lines of a console log.
func lastLines(data []byte, n int) string {
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" {
			lines = append(lines, "  "+l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// consoleEscapes are the ANSI sequences systemd colours its status lines
// with (unit names among them) and the carriage returns of a serial line.
var consoleEscapes = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]|\r")

func stripEscapes(b []byte) []byte { return consoleEscapes.ReplaceAll(b, nil) }

// cloudInitStatus is the part of /run/cloud-init/status.json a readiness
// check reads: per stage its start and end and the errors it recorded.
type cloudInitStatus struct {
	V1 map[string]json.RawMessage `json:"v1"`
}

type cloudInitStage struct {
	Start    *float64 `json:"start"`
	Finished *float64 `json:"finished"`
	Errors   []string `json:"errors"`
}

// seedStage is the cloud-init stage that runs a lab seed's modules (see
// cloudinit.LabSystemConfig). The local stage, which the image masks, must
// have finished too when it ran (an image of the user's own).
const seedStage = "init"

// parseSeedStatus says whether the seed's stages have finished, and returns
// their errors.
func parseSeedStatus(data []byte) (finished bool, errs []string, err error) {
	var st cloudInitStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return false, nil, fmt.Errorf("parsing cloud-init's status.json: %w", err)
	}
	finished = true
	for _, name := range []string{"init-local", seedStage} {
		var s cloudInitStage
		if raw, ok := st.V1[name]; ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				return false, nil, fmt.Errorf("parsing cloud-init's status.json, stage %s: %w", name, err)
			}
		}
		if s.Finished == nil && (name == seedStage || s.Start != nil) {
			finished = false
		}
		for _, e := range s.Errors {
			errs = append(errs, name+": "+e)
		}
	}
	return finished, errs, nil
}

// seedApplied holds when the node accepts SSH with the pinned host key and
// cloud-init says, on the same connection, that it has run the seed's
// modules without an error. connected is called once, when SSH first
// answers. Errors of the seed and a different host key are final: the
// guest's error lines and the console log's path say why.
func seedApplied(cfg labssh.Config, n spec.Node, console string, connected func()) wait.Condition {
	var once sync.Once
	return labssh.Condition(cfg, "ssh and cloud-init's seed on "+n.Name, func(ctx context.Context, c *labssh.Client) error {
		once.Do(connected)
		out, _, err := c.Run(ctx, "cat /run/cloud-init/status.json")
		if err != nil {
			return fmt.Errorf("reading cloud-init's status on %s: %w", n.Name, err)
		}
		finished, errs, err := parseSeedStatus(out)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			lines, _, _ := c.Run(ctx, "sudo grep -hE 'ERROR|WARNING|Traceback|FAIL' /var/log/cloud-init.log /var/log/cloud-init-output.log | tail -n 20")
			return wait.Permanent(fmt.Errorf("cloud-init on %s failed: %s\n%s%s",
				n.Name, strings.Join(errs, "; "), strings.TrimSpace(string(lines)), console))
		}
		if !finished {
			return fmt.Errorf("cloud-init on %s is still running the seed", n.Name)
		}
		return nil
	})
}
