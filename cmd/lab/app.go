package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/kthw-lab/lab/images"
	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/progress"
)

// streams are the process's standard files, injected so tests can run the
// whole CLI in memory.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// globals are the flags every command shares (DESIGN.md's command contract).
type globals struct {
	Lab      string
	Connect  string
	StateDir string
	CacheDir string
	Output   string
	Verbose  bool
	Quiet    bool

	streams streams
	// host is the --connect libvirt host (connected on first use).
	host *lab.Host
	// usageErr is an unknown command seen by urfave/cli's CommandNotFound
	// hook, which cannot return it.
	usageErr error
	// progress is the run's one progress Status (see status).
	progress *progress.Printer
}

// run is the whole CLI: it parses args and runs one command. It never exits
// the process; main does that with the error it returns.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	g := &globals{streams: streams{in: stdin, out: stdout, err: stderr}}
	app := &cli.App{
		Name:  "lab",
		Usage: "a three-node etcd control plane in libvirt VMs, and the slow-disk experiment",
		Description: `lab builds the etcd control plane of "Kubernetes the hard way" (k8smaster0..2 at
192.168.199.200-.202, etcd with mutual TLS) in libvirt/KVM virtual machines on this
machine, and reproduces, measures and compares the leader-election failure that a
slow disk causes.

Getting started (as root):
   lab doctor                 check this host and print how to fix what is missing
   lab image build            build the base guest image from Debian packages
   lab etcd build             build etcd and etcdctl for the guests
   lab create                 three VMs with etcd over mutual TLS; prints the member table
                              (KVM if a guest boots under it, else TCG: a self-test)
   lab status                 where everything is, who leads
   lab scenario slow-disk     the story's failure: ssd vs hdd vs hdd with tuned timeouts
   lab destroy                remove everything the lab made

` + exitHelpTxt,
		Writer:      stdout,
		ErrWriter:   stderr,
		Reader:      stdin,
		HideVersion: true,
		// lab completion's scripts ask lab what may come next.
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // main decides the exit status
		Flags:                g.flags(),
		Before:               g.validate,
		After:                g.close,
		Commands:             commands(g),
		CommandNotFound:      g.commandNotFound,
		OnUsageError:         onUsageError,
		Action:               g.rootAction,
	}
	g.prepareUsage(app.Commands)
	tidyFlags(app.Flags)
	addExamples(app.Commands, "")
	args, err := reorder(args, app.Flags, app.Commands)
	if err != nil {
		return err
	}
	if err := app.RunContext(ctx, args); err != nil {
		return err
	}
	return g.usageErr
}

// rootAction runs when no command was named (help) or an unknown one (a
// usage error, exit 2: a teardown script's `lab destory` must not pass).
func (g *globals) rootAction(c *cli.Context) error {
	if c.Args().Present() {
		return newUsageError(c, "unknown command %q", c.Args().First())
	}
	return cli.ShowAppHelp(c)
}

func commands(g *globals) []*cli.Command {
	return []*cli.Command{
		doctorCommand(g),
		imageCommand(g),
		etcdCommand(g),
		renderCommand(g),
		createCommand(g),
		statusCommand(g),
		listCommand(g),
		checkCommand(g),
		sshCommand(g),
		logsCommand(g),
		envCommand(g),
		diskCommand(g),
		scenarioCommand(g),
		reportCommand(g),
		exportCommand(g),
		destroyCommand(g),
		versionCommand(g),
		completionCommand(g),
		guestCommand(g),
	}
}

func (g *globals) flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "lab", Value: "kthw", EnvVars: []string{"LAB_NAME"}, Destination: &g.Lab,
			Usage: "name of the lab to act on (several labs can coexist)"},
		&cli.StringFlag{Name: "connect", Value: "qemu:///system", EnvVars: []string{"LAB_CONNECT"}, Destination: &g.Connect,
			Usage: "libvirt connection URI: qemu:///system, or qemu+ssh://user@host[:port]/system for a remote host (options: socket=, keyfile=, known_hosts=)"},
		&cli.StringFlag{Name: "state-dir", EnvVars: []string{"LAB_STATE_DIR"}, Destination: &g.StateDir,
			DefaultText: "$XDG_DATA_HOME/lab",
			Usage:       "where labs keep their state, keys and certificates"},
		&cli.StringFlag{Name: "cache-dir", EnvVars: []string{"LAB_CACHE_DIR"}, Destination: &g.CacheDir,
			DefaultText: "/var/cache/lab for root, $XDG_CACHE_HOME/lab otherwise",
			Usage:       "where base images and etcd binaries are cached"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "text", EnvVars: []string{"LAB_OUTPUT"}, Destination: &g.Output,
			Usage: "output format: text or json"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Destination: &g.Verbose, Usage: "show debug logs"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Destination: &g.Quiet, Usage: "show only results and errors"},
	}
}

func (g *globals) validate(c *cli.Context) error {
	if g.Output != "text" && g.Output != "json" {
		return newUsageError(c, "--output %q is not supported: use text or json", g.Output)
	}
	if g.Verbose && g.Quiet {
		return newUsageError(c, "--verbose and --quiet contradict each other: pick one")
	}
	if g.StateDir == "" {
		g.StateDir = defaultStateDir()
	}
	if g.CacheDir == "" {
		g.CacheDir = images.DefaultCacheDir()
	}
	return g.connect(c)
}

// connect prepares the --connect host (lab.Host): a remote one is reached
// through one SSH tunnel, for libvirt and the guests' addresses alike. It
// connects on first use, so commands that never reach the host do not log
// in. Without --connect (or LAB_CONNECT), a lab created on a remote host is
// reached there again: otherwise destroy would look for its objects on this
// machine, find none, and forget the remote ones.
func (g *globals) connect(c *cli.Context) error {
	// The lab name is checked here, for every command (lab.NewStore).
	store, err := g.store()
	if err != nil {
		return err
	}
	if !c.IsSet("connect") {
		if st, err := store.Load(); err == nil && st.Remote() {
			g.Connect = st.Connect
		}
	}
	if g.host, err = lab.NewHost(g.Connect); err != nil {
		return inputError{err} // a malformed --connect: exit 2
	}
	return nil
}

// close closes the connections to the host, if any were made.
func (g *globals) close(*cli.Context) error {
	if g.host == nil {
		return nil
	}
	return g.host.Close()
}

// open opens the lab named by --lab on the --connect host, its progress
// lines going where the run's go. A lab that does not exist says how to
// create it.
func (g *globals) open() (*lab.Lab, error) {
	store, err := g.store()
	if err != nil {
		return nil, err
	}
	l, err := lab.Open(store, g.host)
	if err != nil {
		return nil, err
	}
	l.Progress = g.printer()
	return l, nil
}

func defaultStateDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "lab")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "lab")
	}
	return filepath.Join(os.TempDir(), "lab")
}

// printer returns where progress lines go: stderr, drawn when stderr is a
// terminal, nowhere with --quiet.
// There is one per run: on a terminal its live lines share the screen.
func (g *globals) printer() *progress.Printer {
	if g.Quiet {
		return progress.Discard
	}
	if g.progress == nil {
		g.progress = progress.New(g.streams.err, isTerminal(g.streams.err))
	}
	return g.progress
}

// logger returns the debug logger, on stderr with -v and silent otherwise.
func (g *globals) logger() *slog.Logger {
	if !g.Verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(g.streams.err, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (g *globals) json() bool { return g.Output == "json" }

// printJSON writes v as indented JSON to stdout.
func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.streams.out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "p99 6.68ms < 10ms", not "\u003c"
	return enc.Encode(v)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exitError carries an exit status without a message of its own, for
// commands such as doctor whose output already explains the failure.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
func (e exitError) ExitCode() int { return e.code }
