package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kthw-lab/lab/lab"
	"github.com/kthw-lab/lab/lab/spec"
)

// stateWithLab makes a state dir holding one lab of three nodes, as create
// leaves it, without libvirt.
func stateWithLab(t *testing.T, name string) string {
	return readyState(t, name, nil)
}

// readyState makes a state directory holding one lab in phase ready with
// the default plan; edit, when not nil, changes the plan and fills the
// store before the state is saved.
func readyState(t *testing.T, name string, edit func(store lab.Store, plan *spec.Plan) error) string {
	t.Helper()
	dir := t.TempDir()
	store, err := lab.NewStore(dir, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Init(); err != nil {
		t.Fatal(err)
	}
	s := spec.Defaults()
	s.Name = name
	plan, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		if err := edit(store, plan); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Save(&lab.State{Name: name, Plan: *plan, Phase: lab.PhaseReady}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompletionNames(t *testing.T) {
	state := stateWithLab(t, "alpha")
	os.MkdirAll(filepath.Join(state, "not-a-lab"), 0o700) // no marker: not lab's
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"completion", "names", "labs"}, []string{"alpha"}},
		{[]string{"--lab", "alpha", "completion", "names", "nodes"}, []string{"k8smaster0", "k8smaster1", "k8smaster2"}},
		{[]string{"--lab", "missing", "completion", "names", "nodes"}, nil},
	} {
		var out, errOut bytes.Buffer
		args := append([]string{"lab", "--state-dir", state}, tc.args...)
		if err := run(t.Context(), args, nil, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", tc.args, err, errOut.String())
		}
		if got := strings.Fields(out.String()); !slices.Equal(got, tc.want) {
			t.Errorf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestCompletionUnknownShell(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"lab", "completion", "tcsh"}, nil, &out, &errOut)
	if code := exitCode(err, &errOut); code != 2 || !strings.Contains(errOut.String(), "bash, zsh or fish") {
		t.Errorf("lab completion tcsh = %v (exit %d)\n%s", err, code, errOut.String())
	}
}

// The bash script is loaded by bash itself, and `complete -p lab` must
// show the function it registers; the completions it then computes come
// from the real binary.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed to check the completion script")
	}
	bin := filepath.Join(t.TempDir(), "lab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building lab: %v\n%s", err, out)
	}
	state := stateWithLab(t, "alpha")
	script := `
eval "$(lab completion bash)"
complete -p lab
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _lab_complete; echo "${COMPREPLY[*]}"; }
complete_words lab sc
complete_words lab --lab ""
complete_words lab --lab alpha ssh ""
complete_words lab destroy --he
`
	cmd := exec.Command(bash, "--norc", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "LAB_STATE_DIR="+state)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"complete -o bashdefault -o default -F _lab_complete lab",
		"scenario",
		"alpha",
		"k8smaster0 k8smaster1 k8smaster2",
		"--help",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("bash completion:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestCompletionScripts(t *testing.T) {
	for shell, want := range map[string]string{
		"zsh":  "compdef _lab lab",
		"fish": "complete -c lab -l lab -x -a '(lab completion names labs 2>/dev/null)'",
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), []string{"lab", "completion", shell}, nil, &out, &errOut); err != nil {
			t.Fatalf("lab completion %s: %v\n%s", shell, err, errOut.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Errorf("lab completion %s lacks %q:\n%s", shell, want, out.String())
		}
	}
}
