package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
)

// TestHelpOnceOnStdout: --help prints the usage once, on stdout, exit 0.
func TestHelpOnceOnStdout(t *testing.T) {
	for _, cmd := range []string{"sync", "plan", "check", "explain", "apply", "console", "history", "show"} {
		r := runEnv(context.Background(), "", false, cmd, "--help")
		if r.code != exitOK || strings.Count(r.stdout, "Usage: usersync "+cmd) != 1 || r.stderr != "" {
			t.Errorf("%s --help: exit %d, %d usages on stdout, stderr %q; want exit 0 and one usage on stdout",
				cmd, r.code, strings.Count(r.stdout, "Usage: usersync "+cmd), r.stderr)
		}
	}
}

// TestExitCode: the one mapping of outcomes to exit codes; a record that
// could not be written never exits 0.
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        run.Outcome
		detailed bool
		want     int
	}{
		{"nothing to do", run.Outcome{}, false, exitOK},
		{"plan pending", run.Outcome{PlanOnly: true, Summary: run.Summary{ToSend: 2}}, false, exitOK},
		{"plan pending, detailed", run.Outcome{PlanOnly: true, Summary: run.Summary{ToSend: 2}}, true, exitPending},
		{"failures", run.Outcome{Summary: run.Summary{Failed: 1}}, false, exitFailed},
		{"interrupted", run.Outcome{Summary: run.Summary{Failed: 1}, Result: resultCancelled()}, false, exitInterrupt},
		{"fatal", run.Outcome{Err: errBoom}, false, exitFatal},
		{"record lost", run.Outcome{RecordErr: errBoom}, false, exitFatal},
		{"record lost after failures", run.Outcome{RecordErr: errBoom, Summary: run.Summary{Failed: 1}}, false, exitFailed},
	} {
		if got := exitCode(&tc.o, tc.detailed); got != tc.want {
			t.Errorf("%s: exitCode = %d; want %d", tc.name, got, tc.want)
		}
	}
}

var errBoom = errors.New("boom")

func resultCancelled() core.ApplyResult { return core.ApplyResult{Cancelled: true} }
