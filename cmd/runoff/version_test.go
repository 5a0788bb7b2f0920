package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runoff-vote/runoff"
)

func TestRunVersionOutput(t *testing.T) {
	tests := []struct {
		name string
		v    runoff.BuildVersion
		want string
	}{
		{"no build information", runoff.BuildVersion{},
			"runoff unknown\nrevision unknown (built without VCS information)\n"},
		{"work tree without VCS stamping", runoff.BuildVersion{Version: "(devel)"},
			"runoff (devel)\nrevision unknown (built without VCS information)\n"},
		{"clean commit", runoff.BuildVersion{Version: "v1.2.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-11-25T20:00:00Z"},
			"runoff v1.2.0\nrevision 0123456789abcdef0123456789abcdef01234567\ncommitted 2026-11-25T20:00:00Z\n"},
		{"modified tree", runoff.BuildVersion{Version: "v0.0.0-20261125200000-0123456789ab+dirty", Revision: "0123456789abcdef0123456789abcdef01234567", Modified: true},
			"runoff v0.0.0-20261125200000-0123456789ab+dirty\nrevision 0123456789abcdef0123456789abcdef01234567 (modified)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := runVersion(tt.v, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}

// `runoff version` needs no configuration: it must work with nothing set
// and with a configuration that other commands would refuse.
func TestRunVersionNeedsNoConfig(t *testing.T) {
	getenv := func(name string) string {
		if name == "PORT" {
			return "not a port"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("run version: %v (stderr %s)", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "runoff ") {
		t.Errorf("output %q does not start with %q", out.String(), "runoff ")
	}
}

// A binary built from a git clone names the commit it was built from. The
// environment may say -buildvcs=false (GOFLAGS); the flag on the command
// line wins, as it does for anyone building a release.
func TestVersionOfBuiltBinaryNamesCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git work tree with git on PATH: %v", err)
	}
	// The go command stamps VCS information only where .git is a folder,
	// not in a linked work tree (git worktree add), where .git is a file.
	if fi, err := os.Stat(filepath.Join("..", "..", ".git")); err != nil || !fi.IsDir() {
		t.Skip("../../.git is not a folder (a linked git work tree?): the go command records no VCS information here")
	}
	bin := filepath.Join(t.TempDir(), "runoff")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("runoff version: %v", err)
	}
	want := "revision " + strings.TrimSpace(string(head))
	if !strings.Contains(string(out), want) {
		t.Errorf("runoff version printed\n%s\nwant a line starting %q", out, want)
	}
}

// A Heroku build has no .git; app.json has the Go buildpack link the commit
// into the symbol its GO_LINKER_SYMBOL names. A binary linked that way must
// name the commit.
func TestVersionLinkedAsOnHeroku(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	symbol := readAppJSON(t).Env["GO_LINKER_SYMBOL"].Value
	if symbol == "" {
		t.Fatal("app.json sets no GO_LINKER_SYMBOL: on Heroku, runoff version would name no commit")
	}
	const commit = "0123456789abcdef0123456789abcdef01234567"
	bin := filepath.Join(t.TempDir(), "runoff")
	build := exec.Command("go", "build", "-buildvcs=false", "-ldflags", "-X "+symbol+"="+commit, "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("runoff version: %v", err)
	}
	if want := "revision " + commit + "\n"; !strings.Contains(string(out), want) {
		t.Errorf("runoff version printed\n%s\nwant the line %q", out, want)
	}
}
