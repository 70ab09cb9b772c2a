package lab

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kthw-lab/lab/cloudinit"
	"github.com/kthw-lab/lab/lab/spec"
	"github.com/kthw-lab/lab/lab/wait"
)

func writeConsole(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "k8smaster0.log")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var readyNode = spec.Node{Name: "k8smaster0", IP: netip.MustParseAddr("192.168.199.200")}

func TestNodeReadyReadsTheCurrentBoot(t *testing.T) {
	ready := "[   18.1] cloud-init[301]: " + strings.ReplaceAll(cloudinit.ReadyMessage, "$UPTIME", "41.20") + "\r\n"
	for name, tc := range map[string]struct {
		console   string
		ready     bool
		permanent bool
		want      string
	}{
		"empty":      {console: "", want: "no console output yet"},
		"booting":    {console: "[    0.0] Linux version 6.1.0\r\n[\x1b[0;32m  OK  \x1b[0m] Started ssh.service\r\n", want: "last console line: [  OK  ] Started ssh.service"},
		"ready":      {console: "[    0.0] Linux version 6.1.0\r\n" + ready, ready: true},
		"old boot":   {console: "[    0.0] Linux version 6.1.0\r\n" + ready + "[    0.0] Linux version 6.1.0\r\nsystemd[1]: starting\r\n", want: "not ready yet"},
		"panic":      {console: "[    0.0] Linux version 6.1.0\r\n[    3.0] Kernel panic - not syncing: VFS\r\n", permanent: true, want: "Kernel panic"},
		"cloud-init": {console: "[    0.0] Linux version 6.1.0\r\n[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mcloud-init.servi…\x1b[0m - Initial cloud-init job\r\r\n", permanent: true, want: "Failed to start cloud-init"},
	} {
		t.Run(name, func(t *testing.T) {
			err := nodeReady(writeConsole(t, tc.console), readyNode).Check(t.Context())
			if tc.ready {
				if err != nil {
					t.Fatalf("not ready: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			// A permanent error ends the wait before its deadline.
			err = wait.Until(t.Context(), nil, nodeReady(writeConsole(t, tc.console), readyNode), 50*time.Millisecond, 10*time.Millisecond)
			if _, timedOut := errors.AsType[*wait.TimeoutError](err); timedOut == tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", !timedOut, tc.permanent, err)
			}
		})
	}
}

func TestNodeReadyTimeoutShowsTheConsole(t *testing.T) {
	path := writeConsole(t, "[    0.0] Linux version 6.1.0\r\nline two\r\nStarting cloud-init-local.service\r\n")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	err := wait.Until(ctx, nil, nodeReady(path, readyNode), 1, 1)
	if _, ok := errors.AsType[*wait.TimeoutError](err); !ok {
		t.Fatalf("err = %v, want a timeout", err)
	}
	err = notReadyError(err, path)
	for _, want := range []string{"node k8smaster0 ready", "the console ends with:", "  Starting cloud-init-local.service", "(console log: " + path + ")"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestParseSeedStatus(t *testing.T) {
	for name, tc := range map[string]struct {
		json     string
		finished bool
		errs     int
	}{
		"running init": {json: `{"v1":{"init-local":{"start":1,"finished":2,"errors":[]},"init":{"start":3,"finished":null,"errors":[]},"stage":"init"}}`},
		"done":         {json: `{"v1":{"init-local":{"start":1,"finished":2,"errors":[]},"init":{"start":3,"finished":4,"errors":[]},"modules-config":{"start":null,"finished":null,"errors":[]},"stage":null}}`, finished: true},
		"failed":       {json: `{"v1":{"init-local":{"start":1,"finished":2,"errors":[]},"init":{"start":3,"finished":4,"errors":["('scripts_user', RuntimeError('Runparts: 1 failures'))"]},"stage":null}}`, finished: true, errs: 1},
		"not started":  {json: `{"v1":{"stage":null,"datasource":null}}`},
		// The lab's image masks the local stage: it never starts.
		"done without the local stage": {json: `{"v1":{"init-local":{"start":null,"finished":null,"errors":[]},"init":{"start":3,"finished":4,"errors":[]},"stage":null}}`, finished: true},
		"local stage running":          {json: `{"v1":{"init-local":{"start":1,"finished":null,"errors":[]},"init":{"start":null,"finished":null,"errors":[]},"stage":"init-local"}}`},
		"only the local stage":         {json: `{"v1":{"init-local":{"start":1,"finished":2,"errors":[]},"stage":null}}`},
	} {
		t.Run(name, func(t *testing.T) {
			finished, errs, err := parseSeedStatus([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if finished != tc.finished || len(errs) != tc.errs {
				t.Errorf("finished %v errors %q, want %v and %d errors", finished, errs, tc.finished, tc.errs)
			}
		})
	}
	if _, _, err := parseSeedStatus([]byte("{")); err == nil {
		t.Error("truncated status.json parsed")
	}
}
