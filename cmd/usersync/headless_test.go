package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/connectors/ldap"
	"github.com/usersync/usersync/connectors/okta"
	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/hook"
	"github.com/usersync/usersync/store"
	"github.com/zalando/go-keyring"
)

// manyUsersCSV is a directory of n users in Design: n/10 create requests,
// enough to meet the action rate limit when n > 100.
func manyUsersCSV(n int) string {
	var b strings.Builder
	b.WriteString("firstname,lastname,email,country,groups\n")
	for i := range n {
		fmt.Fprintf(&b, "U,%d,u%03d@example.org,US,Design\n", i, i)
	}
	return b.String()
}

// runs reads the run history (closing the database again: a reader
// holds a shared lock that keeps the next run out).
func (f *fixture) runs() []store.RunInfo {
	f.t.Helper()
	db, err := store.Open(filepath.Join(f.dir, "usersync.db"), store.Options{ReadOnly: true})
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	runs, err := db.Runs(0)
	if err != nil {
		f.t.Fatal(err)
	}
	return runs
}

// editUMAPI replaces old with new in connector-umapi.yml.
func (f *fixture) editUMAPI(old, new string) {
	f.t.Helper()
	p := filepath.Join(f.dir, "connector-umapi.yml")
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		f.t.Fatalf("connector-umapi.yml lacks %q (%v)", old, err)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// runEnv runs a command line as is (no -c or --action-rate added).
func runEnv(ctx context.Context, stdin string, tty bool, args ...string) result {
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, tty: tty, getenv: func(k string) string {
		if k == "USERSYNC_DB" {
			return ""
		}
		return os.Getenv(k)
	}}
	code := runMain(ctx, e, args)
	return result{code, out.String(), errb.String()}
}

// TestResumeAfterKillMidApply kills a sync with SIGKILL in the middle of
// its apply and finishes it with 'apply --resume': the org ends exactly
// as planned and the history shows both runs.
func TestResumeAfterKillMidApply(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	users := manyUsersCSV(150)
	ref := newFixture(t, fixtureOpts{csv: users})
	if r := ref.run(context.Background(), "sync"); r.code != exitOK {
		t.Fatalf("reference sync: %v", r)
	}
	want := emails(ref.srv.State())

	f := newFixture(t, fixtureOpts{csv: users, throttle: "realistic", timeScale: 20})
	f.killMidApply(bin, 3)
	if got := emails(f.srv.State()); cmp.Equal(want, got) {
		t.Fatal("the first run finished before it was killed; nothing was tested")
	}

	r := f.run(context.Background(), "apply", "--resume", "--yes")
	if r.code != exitOK {
		t.Fatalf("apply --resume: %v", r)
	}
	if !strings.Contains(r.stdout, "Resuming run") {
		t.Errorf("apply --resume does not say which run it resumes:\n%v", r)
	}
	if d := cmp.Diff(want, emails(f.srv.State())); d != "" {
		t.Errorf("org after kill and resume differs from the plan (-want +got):\n%s", d)
	}
	// Attributes too: bo's last name was updated by one of the two runs.
	for _, u := range f.srv.State().Users {
		if u.Email == "bo@example.org" && u.Lastname != "Berg" {
			t.Errorf("bo's last name = %q; want Berg", u.Lastname)
		}
	}

	runs := f.runs()
	if len(runs) != 2 {
		t.Fatalf("history has %d runs; want 2 (the killed sync, the resume): %+v", len(runs), runs)
	}
	resumed, killed := runs[0], runs[1]
	// Issue 13 defect 1: the killed run reads as interrupted, with the
	// counts its journal holds, never as "applying, exit 0, 0 succeeded".
	if killed.Command != "sync" || killed.Status != store.StatusInterrupted || killed.ExitCode != store.ExitKilled ||
		killed.Succeeded == 0 || killed.Requests < 3 {
		t.Errorf("killed run = %s %s exit %d, %d succeeded in %d requests; want sync interrupted exit %d with the journal's counts",
			killed.Command, killed.Status, killed.ExitCode, killed.Succeeded, killed.Requests, store.ExitKilled)
	}
	if resumed.Command != "apply" || resumed.Status != store.StatusApplied || resumed.ResumedFrom != killed.ID || resumed.ExitCode != exitOK {
		t.Errorf("resume run = %+v; want an applied apply resumed from %s", resumed, killed.ID)
	}
	if resumed.Succeeded != resumed.Changes {
		t.Errorf("resume run: %d of %d changes succeeded; want all (counting those the killed run applied)", resumed.Succeeded, resumed.Changes)
	}
	if r := f.run(context.Background(), "show", resumed.ID); !strings.Contains(r.stdout, "plan of  run "+killed.ID) {
		t.Errorf("show of the resume does not name the run it finished: %v", r)
	}
	// A second sync has nothing left to do.
	if r := f.run(context.Background(), "plan", "--detailed-exitcode"); r.code != exitOK {
		t.Errorf("plan after resume: %v; want exit 0", r)
	}
	// Nothing left to resume.
	if r := f.run(context.Background(), "apply", "--resume", "--yes"); r.code != exitFatal || !strings.Contains(r.stderr, "no interrupted apply") {
		t.Errorf("second resume: %v; want exit 1, nothing to resume", r)
	}
}

type event struct {
	Type string          `json:"type"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
}

// TestJSONEvents: --json prints only JSON lines on stdout, with every
// event type of a throttled sync; log lines go to stderr.
func TestJSONEvents(t *testing.T) {
	f := newFixture(t, fixtureOpts{csv: manyUsersCSV(110), throttle: "realistic", timeScale: 30})
	r := f.run(context.Background(), "sync", "--json")
	if r.code != exitOK {
		t.Fatalf("sync --json: %v", r)
	}
	types := map[string]int{}
	var summary struct {
		RunID    string            `json:"run_id"`
		Counters core.Counters     `json:"counters"`
		Apply    *core.ApplyResult `json:"apply"`
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("stdout line is not JSON: %v\n%s", err, sc.Text())
		}
		if ev.Type == "" || ev.Time.IsZero() || len(ev.Data) == 0 {
			t.Errorf("event lacks type, time or data: %s", sc.Text())
		}
		types[ev.Type]++
		switch ev.Type {
		case "summary":
			if err := json.Unmarshal(ev.Data, &summary); err != nil {
				t.Errorf("summary: %v", err)
			}
		case "throttle":
			var w struct {
				Seconds float64 `json:"seconds"`
				Cause   string  `json:"cause"`
			}
			json.Unmarshal(ev.Data, &w)
			if w.Seconds <= 0 || w.Cause == "" {
				t.Errorf("throttle event without seconds or cause: %s", ev.Data)
			}
		case "action_result":
			var c core.ChangeResult
			json.Unmarshal(ev.Data, &c)
			if c.Outcome != core.OutcomeSucceeded {
				t.Errorf("action_result = %s; want succeeded", ev.Data)
			}
		}
	}
	for _, typ := range []string{"plan_change", "progress", "throttle", "action_result", "summary"} {
		if types[typ] == 0 {
			t.Errorf("no %q event; got %v", typ, types)
		}
	}
	if types["summary"] != 1 {
		t.Errorf("%d summary events; want 1", types["summary"])
	}
	// 110 creates, bo's update and cy's removal.
	if types["action_result"] != types["plan_change"] {
		t.Errorf("%d action_result events for %d plan_change events; want one each", types["action_result"], types["plan_change"])
	}
	if summary.RunID == "" || summary.Apply == nil || summary.Counters.DirectoryUsersRead != 110 {
		t.Errorf("summary = %+v; want a run id, an apply and 110 directory users", summary)
	}
	if !strings.Contains(r.stderr, "Number of directory users read: 110") {
		t.Errorf("the log lines are not on stderr:\n%s", tail(r.stderr, 2000))
	}
}

// TestExplainStories explains a created, a matched, an excluded and an
// Adobe-only user; each story names every stage it went through.
func TestExplainStories(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, tc := range []struct {
		user   string
		stages []string
		want   []string // in the text
	}{
		{"dee@example.org", []string{"source", "selection", "mapping", "match", "result"}, []string{"create"}},
		{"bo@example.org", []string{"source", "selection", "mapping", "match", "result"}, []string{"lastname"}},
		{"admin@example.org", []string{"exclusion", "result"}, []string{"_org_admin", "no change"}},
		{"cy@example.org", []string{"source", "adobe-only", "limit", "result"}, []string{"remove", "Adobe-only"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			r := f.run(context.Background(), "explain", tc.user, "--json")
			if r.code != exitOK {
				t.Fatalf("explain --json: %v", r)
			}
			var x core.Explanation
			if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
				t.Fatalf("explain --json: %v\n%s", err, r.stdout)
			}
			seen := map[string]bool{}
			for _, s := range x.Steps {
				seen[s.Stage] = true
			}
			for _, st := range tc.stages {
				if !seen[st] {
					t.Errorf("explain %s has no %q step; steps: %+v", tc.user, st, x.Steps)
				}
			}
			r = f.run(context.Background(), "explain", tc.user)
			if r.code != exitOK {
				t.Fatalf("explain: %v", r)
			}
			for _, w := range append([]string{"Why " + tc.user}, tc.want...) {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("explain %s lacks %q:\n%s", tc.user, w, r.stdout)
				}
			}
		})
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("explain sent %d action requests", st.Requests.Action)
	}
	if r := f.run(context.Background(), "explain"); r.code != exitUsage {
		t.Errorf("explain without a user: %v; want exit 2", r)
	}
}

func TestCheck(t *testing.T) {
	t.Run("good", func(t *testing.T) {
		f := newFixture(t, fixtureOpts{})
		r := f.run(context.Background(), "check")
		if r.code != exitOK || strings.Contains(r.stdout, "FAIL") {
			t.Fatalf("check on a good setup: %v; want exit 0", r)
		}
		for _, w := range []string{"token obtained", "directory (csv): 3 users"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("check output lacks %q:\n%s", w, r.stdout)
			}
		}
	})
	t.Run("missing groups", func(t *testing.T) {
		f := newFixture(t, fixtureOpts{mapping: "    - directory_group: Design\n      adobe_groups: [Design Teem, All Apps]\n" +
			"    - directory_group: Marketing\n      adobe_groups: [All Apps]\n" +
			"    - directory_group: Desgn\n      adobe_groups: [All Apps]\n"})
		r := f.run(context.Background(), "check")
		if r.code != exitFatal {
			t.Fatalf("check: %v; want exit 1", r)
		}
		for _, w := range []string{`FAIL  Adobe group "Design Teem"`, `did you mean "Design Team"`, `FAIL  directory group "Marketing"`, `FAIL  directory group "Desgn" is mapped but not found in the directory (did you mean "Design"?)`, "3 problem(s)"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("check output lacks %q:\n%v", w, r)
			}
		}
		if st := f.srv.Stats(); st.Requests.Action != 0 {
			t.Errorf("check sent %d action requests", st.Requests.Action)
		}
	})
}

// fakeSecrets answers every lookup with one secret.
type fakeSecrets map[string]string

func (f fakeSecrets) Secret(_ context.Context, service, _ string) (string, error) {
	if v, ok := f[service]; ok {
		return v, nil
	}
	return "", fmt.Errorf("no %s", service)
}

// TestNoConfigSaysHowToStart: bare usersync in an empty directory.
func TestNoConfigSaysHowToStart(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, args := range [][]string{nil, {"console"}} {
		r := runEnv(context.Background(), "", true, args...)
		if r.code != exitOK {
			t.Errorf("usersync %v without a config: %v; want exit 0", args, r)
		}
		for _, w := range []string{"usersync demo", "usersync init"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("usersync %v without a config lacks %q:\n%v", args, w, r)
			}
		}
	}
	// sync without a config is fatal, and says how to start.
	r := runEnv(context.Background(), "", false, "sync")
	if r.code != exitFatal || !strings.Contains(r.stderr, "usersync init") {
		t.Errorf("sync without a config: %v; want exit 1 with how to start", r)
	}
}

// TestUSTCommandLineWithoutSubcommand: UST's cron line runs a sync when
// not at a terminal.
func TestUSTCommandLineWithoutSubcommand(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	r := runEnv(context.Background(), "", false, "--users", "mapped", "--process-groups", "-c", f.cfg, "--action-rate", f.rate)
	if r.code != exitOK || !strings.Contains(r.stdout, "Number of new Adobe users added: 1") {
		t.Fatalf("usersync --users mapped --process-groups: %v; want a sync", r)
	}
	if _, ok := emails(f.srv.State())["dee@example.org"]; !ok {
		t.Error("the sync did not create dee")
	}
	runs := f.runs()
	if len(runs) != 1 || runs[0].Command != "sync" {
		t.Errorf("runs = %+v; want one sync", runs)
	}
}

func TestHistoryAndShowJSON(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	if r := f.run(context.Background(), "plan"); r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	if r := f.run(context.Background(), "sync"); r.code != exitOK {
		t.Fatalf("sync: %v", r)
	}
	r := f.run(context.Background(), "history", "--json")
	if r.code != exitOK {
		t.Fatalf("history --json: %v", r)
	}
	var runs []store.RunInfo
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		var ri store.RunInfo
		if err := json.Unmarshal(sc.Bytes(), &ri); err != nil {
			t.Fatalf("history --json line: %v\n%s", err, sc.Text())
		}
		runs = append(runs, ri)
	}
	var got []string
	for _, ri := range runs {
		got = append(got, ri.Command+" "+ri.Status)
	}
	if d := cmp.Diff([]string{"sync applied", "plan planned"}, got); d != "" {
		t.Fatalf("history --json (-want +got):\n%s", d)
	}
	r = f.run(context.Background(), "show", runs[0].ID, "--json")
	if r.code != exitOK {
		t.Fatalf("show --json: %v", r)
	}
	var shown struct {
		Run     store.RunInfo `json:"run"`
		Results []resultRow   `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &shown); err != nil {
		t.Fatalf("show --json: %v\n%s", err, r.stdout)
	}
	if shown.Run.ID != runs[0].ID || len(shown.Results) != shown.Run.Changes || shown.Run.Changes == 0 {
		t.Errorf("show --json: run %s with %d results for %d changes", shown.Run.ID, len(shown.Results), shown.Run.Changes)
	}
	outcomes := map[string]string{}
	for _, row := range shown.Results {
		outcomes[string(row.Action)+" "+row.User] = row.Outcome
	}
	for _, k := range []string{"create dee@example.org", "update bo@example.org", "remove_from_org cy@example.org"} {
		if outcomes[k] != "succeeded" {
			t.Errorf("show --json: %q outcome %q; want succeeded (all: %v)", k, outcomes[k], outcomes)
		}
	}
	// The plan-only run shows its changes as not sent.
	r = f.run(context.Background(), "show", runs[1].ID, "--json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"outcome":"not sent"`) {
		t.Errorf("show of a plan run: %v; want changes not sent", r)
	}
	if r := f.run(context.Background(), "show", "no-such-run"); r.code != exitFatal {
		t.Errorf("show of an unknown run: %v; want exit 1", r)
	}
	if r := f.run(context.Background(), "show", "last", "--json", "--csv"); r.code != exitUsage {
		t.Errorf("show --json --csv: %v; want exit 2", r)
	}
}

// actionRecorder remembers the query of every action request.
type actionRecorder struct {
	mu      sync.Mutex
	queries []string
}

func (a *actionRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/action/") {
			a.mu.Lock()
			a.queries = append(a.queries, r.URL.RawQuery)
			a.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// TestTestModeChangesNothing: -t sends every request with testOnly and
// the org is unchanged.
func TestTestModeChangesNothing(t *testing.T) {
	rec := &actionRecorder{}
	f := newFixture(t, fixtureOpts{wrap: rec.wrap})
	before := f.srv.State()
	r := f.run(context.Background(), "sync", "-t")
	if r.code != exitOK {
		t.Fatalf("sync -t: %v", r)
	}
	if !strings.Contains(r.stdout, "TEST MODE") {
		t.Errorf("the log does not say TEST MODE:\n%s", r.stdout)
	}
	if len(rec.queries) == 0 {
		t.Fatal("test mode sent no action requests; it should send them with testOnly")
	}
	for _, q := range rec.queries {
		if !strings.Contains(q, "testOnly=true") {
			t.Errorf("action request with query %q; want testOnly=true", q)
		}
	}
	if d := cmp.Diff(before, f.srv.State()); d != "" {
		t.Errorf("test mode changed the org (-before +after):\n%s", d)
	}
	if last := f.runs()[0]; !last.TestMode {
		t.Errorf("the run is not recorded as a test-mode run: %+v", last)
	}
}

// TestAdobeOnlyWriteFile: write-file writes the Adobe-only users and
// removes nobody.
func TestAdobeOnlyWriteFile(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	out := filepath.Join(f.dir, "strays.csv")
	r := f.run(context.Background(), "sync", "--adobe-only-user-action", "write-file", out)
	if r.code != exitOK {
		t.Fatalf("sync write-file: %v", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "type,email,domain\nfederatedID,cy@example.org,\n"; got != want {
		t.Errorf("strays file = %q; want %q", got, want)
	}
	if _, ok := emails(f.srv.State())["cy@example.org"]; !ok {
		t.Error("write-file removed the Adobe-only user")
	}
}

// TestAdobeOnlyUserList: --adobe-only-user-list removes the listed users
// and nobody else, without reading the directory.
func TestAdobeOnlyUserList(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	list := filepath.Join(f.dir, "remove.csv")
	os.WriteFile(list, []byte("type,email\nfederatedID,cy@example.org\nfederatedID,bo@example.org\n"), 0o600)
	r := f.run(context.Background(), "sync", "--adobe-only-user-list", list, "--adobe-only-user-action", "remove")
	if r.code != exitOK {
		t.Fatalf("sync --adobe-only-user-list: %v", r)
	}
	got := emails(f.srv.State())
	want := map[string][]string{
		"ana@example.org":   {"all apps", "design team"},
		"admin@example.org": {"_org_admin"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("org after the list run (-want +got):\n%s", d)
	}
}

// TestRememberedExclusions: an exclusion remembered in the console holds
// its change back in headless runs, and show lists it.
func TestRememberedExclusions(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	r := f.run(context.Background(), "plan", "--json")
	if r.code != exitOK {
		t.Fatalf("plan --json: %v", r)
	}
	var create core.Change
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev event
		json.Unmarshal([]byte(line), &ev)
		var c core.Change
		if ev.Type == "plan_change" && json.Unmarshal(ev.Data, &c) == nil && c.Action == core.ActionCreate {
			create = c
		}
	}
	if create.Key == "" {
		t.Fatalf("no create in the plan:\n%s", r.stdout)
	}
	db, err := store.Open(filepath.Join(f.dir, "usersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.RememberExclusion(core.Exclusion{Org: create.Org, Key: create.Key, Action: create.Action, Note: "contractor, not yet"})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	r = f.run(context.Background(), "sync")
	if r.code != exitOK {
		t.Fatalf("sync: %v", r)
	}
	if !strings.Contains(r.stdout, "Excluded by a remembered exclusion") {
		t.Errorf("the log does not mention the remembered exclusion:\n%s", r.stdout)
	}
	// plan --json marks the changes a remembered exclusion holds back.
	if r := f.run(context.Background(), "plan", "--json"); strings.Count(r.stdout, `"excluded":true`) != 2 {
		t.Errorf("plan --json marks %d changes excluded; want dee's create and group add:\n%s", strings.Count(r.stdout, `"excluded":true`), r.stdout)
	}
	got := emails(f.srv.State())
	if _, ok := got["dee@example.org"]; ok {
		t.Error("dee was created despite the remembered exclusion")
	}
	if _, ok := got["cy@example.org"]; ok {
		t.Error("the rest of the plan was not applied: cy is still there")
	}
	r = f.run(context.Background(), "show", "last")
	if r.code != exitOK || !strings.Contains(r.stdout, "contractor, not yet") || !strings.Contains(r.stdout, "excluded") {
		t.Errorf("show: %v; want the remembered exclusion and an excluded change", r)
	}
	if r := f.run(context.Background(), "show", "last", "--json"); !strings.Contains(r.stdout, `"outcome":"excluded"`) || !strings.Contains(r.stdout, "remembered_exclusions") {
		t.Errorf("show --json: %v; want the excluded change and the exclusion", r)
	}
	// explain tells it too.
	if r := f.run(context.Background(), "explain", "dee@example.org"); !strings.Contains(r.stdout, "[exclusion] remembered") || !strings.Contains(r.stdout, "contractor, not yet") {
		t.Errorf("explain does not mention the remembered exclusion: %v", r)
	}
	// With nothing else left, the next plan has only the excluded change:
	// it is not pending.
	if r := f.run(context.Background(), "plan", "--detailed-exitcode"); r.code != exitOK {
		t.Errorf("plan after sync: %v; want 0 (only an excluded change remains)", r)
	}
}

func TestKeepRuns(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for range 4 {
		if r := f.run(context.Background(), "plan", "--keep-runs", "2"); r.code != exitOK {
			t.Fatalf("plan: %v", r)
		}
	}
	if runs := f.runs(); len(runs) != 2 {
		t.Errorf("%d runs kept; want 2", len(runs))
	}
}

// TestLogFile: logging.log_to_file writes UST's lines to the named file
// at its own level, and never a secret.
func TestLogFile(t *testing.T) {
	f := newFixture(t, fixtureOpts{logging: "  log_to_file: True\n  file_log_directory: logs\n  file_log_name_format: 'usersync-{:%Y-%m-%d}.log'\n  file_log_level: debug\n  console_log_level: warning\n"})
	r := f.run(context.Background(), "sync")
	if r.code != exitOK {
		t.Fatalf("sync: %v", r)
	}
	if strings.Contains(r.stdout, " INFO ") {
		t.Errorf("console_log_level warning let INFO lines through:\n%s", r.stdout)
	}
	name := filepath.Join(f.dir, "logs", "usersync-"+time.Now().Format("2006-01-02")+".log")
	b, err := os.ReadFile(name)
	if err != nil {
		entries, _ := os.ReadDir(filepath.Join(f.dir, "logs"))
		t.Fatalf("log file: %v (logs/ has %v)", err, entries)
	}
	for _, w := range []string{"Start Run", "Number of new Adobe users added: 1", " DEBUG ", "End Run"} {
		if !bytes.Contains(b, []byte(w)) {
			t.Errorf("log file lacks %q", w)
		}
	}
	if bytes.Contains(b, []byte(testSecret)) {
		t.Error("the client secret is in the log file")
	}
	// A second run appends.
	f.run(context.Background(), "plan")
	b2, _ := os.ReadFile(name)
	if !bytes.HasPrefix(b2, b) || len(b2) == len(b) {
		t.Error("the second run did not append to the log file")
	}
}

// TestSecretsNeverWritten extends TestSecretsNeverLogged to plan files,
// log files at debug level and every command's output.
func TestSecretsNeverWritten(t *testing.T) {
	f := newFixture(t, fixtureOpts{logging: "  log_to_file: True\n  file_log_level: debug\n  console_log_level: debug\n"})
	planFile := filepath.Join(f.dir, "plan.json")
	var all strings.Builder
	for _, args := range [][]string{{"plan", "-o", planFile}, {"apply", planFile, "--yes"}, {"check"},
		{"explain", "dee@example.org"}, {"history"}, {"show", "last", "--json"}} {
		r := f.run(context.Background(), args...)
		all.WriteString(r.stdout + r.stderr)
	}
	if strings.Contains(all.String(), testSecret) {
		t.Error("the client secret appears in a command's output")
	}
	// A wrong secret is refused without being quoted.
	const wrong = "wrong-secret-0123456789"
	f.editUMAPI(testSecret, wrong)
	for _, args := range [][]string{{"sync"}, {"check"}} {
		r := f.run(context.Background(), args...)
		if r.code != exitFatal {
			t.Errorf("%v with a wrong secret: %v; want exit 1", args, r)
		}
		if strings.Contains(r.stdout+r.stderr, wrong) {
			t.Errorf("%v quotes the wrong secret: %v", args, r)
		}
	}
	for _, glob := range []string{"*.json", "logs/*", "*.db"} {
		files, _ := filepath.Glob(filepath.Join(f.dir, glob))
		if len(files) == 0 {
			t.Errorf("no %s file written", glob)
		}
		for _, p := range files {
			b, _ := os.ReadFile(p)
			if bytes.Contains(b, []byte(testSecret)) || bytes.Contains(b, []byte(wrong)) {
				t.Errorf("a client secret is in %s", p)
			}
		}
	}
}

// TestInitFilesLoad: the files init writes load and validate as written,
// every connector file included, once the org's values and the secrets are
// filled in; and 'usersync check' passes on them against the simulator.
func TestInitFilesLoad(t *testing.T) {
	dir := t.TempDir()
	r := runEnv(context.Background(), "", false, "init", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("init: %v", r)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) < 6 {
		t.Fatalf("init wrote %d files; want 6:\n%s", len(entries), r.stdout)
	}
	for _, ent := range entries {
		if fi, _ := ent.Info(); fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group and others", ent.Name(), fi.Mode().Perm())
		}
	}
	// A second init keeps what is there.
	os.WriteFile(filepath.Join(dir, "connector-csv.yml"), []byte("delimiter: ','\n"), 0o600)
	if r := runEnv(context.Background(), "", false, "init", "--dir", dir); r.code != exitOK || !strings.Contains(r.stdout, "kept") {
		t.Errorf("second init: %v; want the files kept", r)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "connector-csv.yml")); string(b) != "delimiter: ','\n" {
		t.Error("a second init overwrote an edited file")
	}

	// Point the UMAPI file at the simulator and enable every example file.
	seed := smallSeed()
	seed.Groups = append(seed.Groups, sim.SeedGroup{Name: "Creative Cloud All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"},
		sim.SeedGroup{Name: "Acrobat Pro", Type: "PRODUCT_PROFILE", ProductName: "Acrobat"},
		sim.SeedGroup{Name: "Acrobat_Sunday_Special", Type: "USER_GROUP"}, sim.SeedGroup{Name: "Undefined subco", Type: "USER_GROUP"})
	srv, err := sim.New(sim.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	edit := func(name string, pairs ...string) {
		t.Helper()
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("%s no longer contains %q", name, pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		os.WriteFile(p, []byte(s), 0o600)
	}
	edit("connector-umapi.yml",
		"# host: usermanagement.adobe.io", "host: "+url,
		"# auth_host: ims-na1.adobelogin.com", "auth_host: "+url,
		`org_id: "Org ID goes here"`, "org_id: "+seed.OrgID,
		`client_id: "Client ID goes here"`, "client_id: "+testClientID)
	edit("user-sync-config.yml",
		"# csv: connector-csv.yml", "csv: connector-csv.yml",
		"# okta: connector-okta.yml", "okta: connector-okta.yml",
		"# extension: extension-config.yml", "extension: extension-config.yml")
	cfgPath := filepath.Join(dir, "user-sync-config.yml")
	sec := fakeSecrets{"umapi_client_secret": testSecret, "ldap_password": "pw", "okta_api_token": "tok"}
	cfg, err := config.Load(cfgPath, config.LoadOptions{Secrets: sec,
		CompileHook: func(file string, line int, src string) (core.Hook, error) { return hook.Compile(file, line, src, nil) }})
	if err != nil {
		t.Fatalf("config.Load on init's files: %v", err)
	}
	if len(cfg.Warnings) > 0 {
		t.Errorf("config.Load on init's files warns: %q", cfg.Warnings)
	}
	if u := cfg.UMAPI[core.PrimaryOrg]; u == nil || u.ClientSecret != testSecret || u.OrgID != seed.OrgID {
		t.Errorf("UMAPI settings = %+v; want the org and the secret from the keyring", u)
	}
	ctx := context.Background()
	if n, err := cfg.DirectoryConnector("ldap"); err != nil {
		t.Error(err)
	} else if _, err := ldap.ParseConfig(ctx, n, sec); err != nil {
		t.Errorf("connector-ldap.yml: %v", err)
	}
	if n, err := cfg.DirectoryConnector("okta"); err != nil {
		t.Error(err)
	} else if _, err := okta.ParseConfig(ctx, n, sec); err != nil {
		t.Errorf("connector-okta.yml: %v", err)
	}
	if n, err := cfg.DirectoryConnector("csv"); err != nil {
		t.Error(err)
	} else if _, err := csv.ParseConfig(n); err != nil {
		t.Errorf("connector-csv.yml: %v", err)
	}

	// check, with a CSV directory in place of LDAP and the secret from
	// the environment.
	t.Setenv("USERSYNC_SECRET_UMAPI_CLIENT_SECRET", testSecret)
	t.Setenv("USERSYNC_SECRET_OKTA_API_TOKEN", "tok")
	users := filepath.Join(dir, "users.csv")
	os.WriteFile(users, []byte("firstname,lastname,email,country,groups\nAna,Ruiz,ana@example.org,ES,\"Adobe Creative Cloud,Adobe Acrobat,Adobe Users\"\n"), 0o600)
	r = runEnv(ctx, "", false, "check", "-c", cfgPath, "--connector", "csv", users)
	if r.code != exitOK {
		t.Errorf("check on init's files: %v", r)
	}
}

// TestCredentials stores, reads and deletes a secret in a mock keyring; the
// secret comes from standard input and is printed only with --show.
func TestCredentials(t *testing.T) {
	keyring.MockInit()
	const secret = "p8e-very-secret"
	const user = "E2E0E2E0E2E0E2E0@AdobeOrg"
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
		want  string
	}{
		{[]string{"get", "umapi_client_secret", "--user", user}, "", exitFatal, "is not set"},
		{[]string{"set", "umapi_client_secret", "--user", user}, secret + "\n", exitOK, "Stored umapi_client_secret"},
		{[]string{"get", "umapi_client_secret", "--user", user}, "", exitOK, fmt.Sprintf("is set (%d characters)", len(secret))},
		{[]string{"get", "umapi_client_secret", "--user", user, "--show"}, "", exitOK, secret + "\n"},
		{[]string{"get", "umapi_client_secret", "--user", "someone-else"}, "", exitFatal, "is not set"},
		{[]string{"delete", "umapi_client_secret", "--user", user}, "", exitOK, "Deleted"},
		{[]string{"get", "umapi_client_secret", "--user", user}, "", exitFatal, "is not set"},
		{[]string{"delete", "umapi_client_secret", "--user", user}, "", exitOK, "was not set"},
		{[]string{"set", "umapi_client_secret", "--user", user}, "\n", exitFatal, ""},
		{[]string{"set", "umapi_client_secret"}, secret + "\n", exitUsage, ""},
		{[]string{"list", "umapi_client_secret", "--user", user}, "", exitUsage, ""},
	} {
		r := runEnv(context.Background(), tc.stdin, false, append([]string{"credentials"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("credentials %v: %v; want exit %d and %q", tc.args, r, tc.code, tc.want)
		}
		if !slices.Contains(tc.args, "--show") && strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("credentials %v echoed the secret: %v", tc.args, r)
		}
	}
	// A secret stored with set is what a sync's secure_client_secret_key
	// finds.
	keyring.Set("umapi_client_secret", user, testSecret)
	f := newFixture(t, fixtureOpts{})
	f.editUMAPI("client_secret: "+testSecret, "secure_client_secret_key: umapi_client_secret")
	if r := f.run(context.Background(), "sync"); r.code != exitOK {
		t.Errorf("sync with the secret in the keyring: %v", r)
	}
}

// TestBareCommandOutsideTerminal: bare 'usersync' in cron, in the
// directory of the configuration, is UST's sync with invocation_defaults.
func TestBareCommandOutsideTerminal(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	t.Chdir(f.dir)
	r := runEnv(context.Background(), "", false)
	if r.code != exitOK || !strings.Contains(r.stdout, "Number of new Adobe users added: 1") {
		t.Fatalf("bare usersync outside a terminal: %v; want a sync", r)
	}
	if _, ok := emails(f.srv.State())["dee@example.org"]; !ok {
		t.Error("the sync did not create dee")
	}
}

// TestDemoHeadless runs the README's first command.
func TestDemoHeadless(t *testing.T) {
	dir := t.TempDir()
	r := runEnv(context.Background(), "", false, "demo", "--headless", "--time-scale", "120", "--dir", dir)
	if r.code != exitOK {
		t.Fatalf("demo --headless: %v", r)
	}
	for _, w := range []string{"Start Run", "Number of new Adobe users added: 80", "Number of UMAPI actions sent", "End Run"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("demo --headless log lacks %q", w)
		}
	}
	if strings.Contains(r.stdout, " ERROR ") || strings.Contains(r.stdout, " CRITICAL ") || strings.Contains(r.stdout, "verification is off") {
		t.Errorf("demo --headless logs errors or warnings a first-time user should not see:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "simulated Adobe org") || !strings.Contains(r.stderr, "action requests") {
		t.Errorf("demo --headless does not say what it ran against:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "usersync.db")); err != nil {
		t.Errorf("the demo recorded no run: %v", err)
	}
}

// TestApplyJSON: apply --json ends with a summary event too.
func TestApplyJSON(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	planFile := filepath.Join(f.dir, "plan.json")
	if r := f.run(context.Background(), "plan", "-o", planFile); r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	r := f.run(context.Background(), "apply", planFile, "--yes", "--json")
	if r.code != exitOK {
		t.Fatalf("apply --json: %v", r)
	}
	for _, w := range []string{"Start Run", "Number of UMAPI actions sent", "End Run"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("apply's log lacks %q:\n%s", w, r.stderr)
		}
	}
	types := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("apply --json printed a non-JSON line: %q", line)
		}
		types[ev.Type]++
	}
	if types["action_result"] == 0 || types["summary"] != 1 {
		t.Errorf("apply --json events = %v; want action results and one summary", types)
	}
	// Without --yes and without a terminal, apply refuses: usage.
	if r := f.run(context.Background(), "apply", planFile); r.code != exitUsage {
		t.Errorf("apply without --yes outside a terminal: %v; want exit 2", r)
	}
}

// TestApplyUsesThePlansFlags: a plan made with sync flags is applied as
// made; apply needs no copy of the flags (and a different selection must
// not look like a changed directory).
func TestApplyUsesThePlansFlags(t *testing.T) {
	f := newFixture(t, fixtureOpts{csv: smallCSV + "Eve,Ek,eve@example.org,SE,Other\n"})
	planFile := filepath.Join(f.dir, "plan.json")
	r := f.run(context.Background(), "plan", "--users", "group", "Design", "--adobe-only-user-action", "preserve", "-o", planFile)
	if r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	r = f.run(context.Background(), "apply", planFile, "--yes")
	if r.code != exitOK {
		t.Fatalf("apply of a plan made with --users group: %v", r)
	}
	got := emails(f.srv.State())
	if _, ok := got["dee@example.org"]; !ok {
		t.Error("apply did not create dee")
	}
	if _, ok := got["cy@example.org"]; !ok {
		t.Error("apply removed cy: it did not keep the plan's --adobe-only-user-action preserve")
	}
}

// TestResumeKeepsTheRunsExclusions: changes the operator excluded for a
// run (in the console) stay excluded when the run is resumed, with the
// changes that depend on them.
func TestResumeKeepsTheRunsExclusions(t *testing.T) {
	f := newFixture(t, fixtureOpts{csv: manyUsersCSV(120), throttle: "realistic", timeScale: 30})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for f.srv.Stats().Requests.Action < 1 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	if r := f.run(ctx, "sync"); r.code != exitInterrupt {
		t.Fatalf("interrupted sync: %v; want 130", r)
	}
	// Exclude the creation of the last user, as the console records it.
	db, err := store.Open(filepath.Join(f.dir, "usersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	info, _, _ := db.LatestRun()
	plan, err := db.Plan(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	done, _, _ := db.ResumeState(info.ID)
	const held = "u119@example.org"
	for _, c := range plan.Changes {
		if c.Action == core.ActionCreate && c.User.Email == held {
			if done[c.ID] {
				t.Fatalf("%s was created before the interruption; nothing to test", held)
			}
			info.Excluded = []int{c.ID}
		}
	}
	if len(info.Excluded) == 0 {
		t.Fatalf("no create of %s in the plan", held)
	}
	db.UpdateRun(info)
	db.Close()

	r := f.run(context.Background(), "apply", "--resume", "--yes")
	if r.code != exitOK {
		t.Fatalf("apply --resume: %v", r)
	}
	got := emails(f.srv.State())
	if _, ok := got[held]; ok {
		t.Errorf("resume created %s, whose creation was excluded for the run", held)
	}
	if _, ok := got["u118@example.org"]; !ok {
		t.Error("resume did not finish the rest of the plan")
	}
	if runs := f.runs(); len(runs[0].Excluded) != 2 {
		t.Errorf("resume run excluded changes %v; want the create and its group add", runs[0].Excluded)
	}
}

// TestSecretsFile: --secrets-file and USERSYNC_SECRETS_FILE feed
// secure_X_key settings on servers without a keyring; a file others can
// read is refused without quoting it.
func TestSecretsFile(t *testing.T) {
	keyring.MockInit() // an empty keyring: the file is the only source
	f := newFixture(t, fixtureOpts{})
	f.editUMAPI("client_secret: "+testSecret, "secure_client_secret_key: umapi_client_secret")
	secretsFile := filepath.Join(f.dir, "secrets.yml")
	os.WriteFile(secretsFile, []byte("umapi_client_secret:\n  "+f.seed.OrgID+": "+testSecret+"\n"), 0o600)

	if r := f.run(context.Background(), "plan", "--secrets-file", secretsFile); r.code != exitOK {
		t.Fatalf("plan --secrets-file: %v", r)
	}
	t.Setenv("USERSYNC_SECRETS_FILE", secretsFile)
	if r := f.run(context.Background(), "check"); r.code != exitOK {
		t.Fatalf("check with USERSYNC_SECRETS_FILE: %v", r)
	}
	os.Chmod(secretsFile, 0o644)
	r := f.run(context.Background(), "sync")
	if r.code != exitFatal || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("sync with a world-readable secrets file: %v; want exit 1 saying chmod 600", r)
	}
	if strings.Contains(r.stdout+r.stderr, testSecret) {
		t.Error("the refusal quotes the secret")
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent", st.Requests.Action)
	}
}

// TestJSONErrorEvent: with --json a fatal error ends the stream with an
// error event, and stdout still carries JSON only.
func TestJSONErrorEvent(t *testing.T) {
	bad := newFixture(t, fixtureOpts{extraMain: "  bogus_key: 1\n"})
	locked := newFixture(t, fixtureOpts{})
	db, err := store.Open(filepath.Join(locked.dir, "usersync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		name string
		f    *fixture
		args []string
		want string
	}{
		{"bad config", bad, []string{"sync", "--json"}, "bogus_key"},
		{"locked", locked, []string{"plan", "--json", "--lock-wait", "50ms"}, "another usersync"},
	} {
		r := tc.f.run(context.Background(), tc.args...)
		if r.code != exitFatal {
			t.Errorf("%s: %v; want exit 1", tc.name, r)
			continue
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		var ev event
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &ev); err != nil || ev.Type != "error" {
			t.Errorf("%s: last stdout line %q; want an error event", tc.name, lines[len(lines)-1])
			continue
		}
		var data struct {
			Message  string `json:"message"`
			ExitCode int    `json:"exit_code"`
		}
		json.Unmarshal(ev.Data, &data)
		if data.ExitCode != exitFatal || !strings.Contains(data.Message, tc.want) {
			t.Errorf("%s: error event %s; want exit_code 1 and %q", tc.name, ev.Data, tc.want)
		}
	}
}

// planChanges runs plan --json and returns "action user" of every change.
func (f *fixture) planChanges(args ...string) []string {
	f.t.Helper()
	r := f.run(context.Background(), append(append([]string{"plan"}, args...), "--json")...)
	if r.code != exitOK {
		f.t.Fatalf("plan %v: %v\n%s", args, r, r.stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev event
		var c core.Change
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "plan_change" && json.Unmarshal(ev.Data, &c) == nil {
			out = append(out, string(c.Action)+" "+c.User.User)
		}
	}
	slices.Sort(out)
	return out
}

// TestUSTTwoTokenForms: UST's cron-line forms select users as in UST.
// (--users file is refused here, as in UST, because the configuration's
// invocation_defaults name a csv connector with its file.)
func TestUSTTwoTokenForms(t *testing.T) {
	f := newFixture(t, fixtureOpts{csv: smallCSV + "Eve,Ek,eve@example.org,SE,Other\n"})
	other := filepath.Join(f.dir, "other.csv")
	os.WriteFile(other, []byte("firstname,lastname,email,country,groups\nZed,Zu,zed@example.org,DE,Design\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--connector", "csv", other, "--adobe-only-user-action", "exclude"},
			[]string{"add_groups zed@example.org", "create zed@example.org"}},
		{[]string{"--users", "group", "Other", "--adobe-only-user-action", "exclude"},
			[]string{"create eve@example.org"}},
		{[]string{"--user-filter", "DEE@.*", "--adobe-only-user-action", "exclude"},
			[]string{"add_groups dee@example.org", "create dee@example.org"}},
	} {
		if d := cmp.Diff(tc.want, f.planChanges(tc.args...)); d != "" {
			t.Errorf("plan %v (-want +got):\n%s", tc.args, d)
		}
	}
}

// TestConsoleNeedsTerminal: the console and the interactive demo say what
// to run instead when there is no terminal.
func TestConsoleNeedsTerminal(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, args := range [][]string{{"console", "-c", f.cfg}, {"demo", "--dir", t.TempDir()}} {
		r := runEnv(context.Background(), "", false, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "usersync sync") {
			t.Errorf("%v without a terminal: %v; want exit 2 naming usersync sync", args, r)
		}
	}
}

// TestReadableSecretsFileRefusedDespiteKeyring: a secrets file that others
// can read is refused even when the keyring holds the secret too (the
// lookup chain of connectors/secrets alone would fall through to the
// keyring and say nothing about the exposed file).
func TestReadableSecretsFileRefusedDespiteKeyring(t *testing.T) {
	keyring.MockInit()
	f := newFixture(t, fixtureOpts{})
	f.editUMAPI("client_secret: "+testSecret, "secure_client_secret_key: umapi_client_secret")
	keyring.Set("umapi_client_secret", f.seed.OrgID, testSecret)
	secretsFile := filepath.Join(f.dir, "secrets.yml")
	os.WriteFile(secretsFile, []byte("umapi_client_secret: "+testSecret+"\n"), 0o644)
	r := f.run(context.Background(), "plan", "--secrets-file", secretsFile)
	if r.code != exitFatal || !strings.Contains(r.stderr, "chmod 600") {
		t.Errorf("plan with a world-readable secrets file and the secret in the keyring: %v; want exit 1 saying chmod 600", r)
	}
	// A named secrets file that is missing is an error too.
	r = f.run(context.Background(), "plan", "--secrets-file", filepath.Join(f.dir, "missing.yml"))
	if r.code != exitFatal || !strings.Contains(r.stderr, "missing.yml") || strings.Contains(r.stderr, "usersync init") {
		t.Errorf("plan with a missing secrets file: %v; want exit 1 naming it", r)
	}
}

// TestExit3WinsOverExit4: failed actions and a withheld limit together
// exit 3, as docs/headless.md says.
func TestExit3WinsOverExit4(t *testing.T) {
	seed := smallSeed()
	for i := range 3 {
		seed.Users = append(seed.Users, sim.SeedUser{Email: fmt.Sprintf("old%d@example.org", i), Type: "federatedID", Country: "US"})
	}
	f := newFixture(t, fixtureOpts{seed: seed, limit: "2", mapping: "    - directory_group: Design\n      adobe_groups: [Design Team, Ghost Profile]\n"})
	r := f.run(context.Background(), "sync")
	if r.code != exitFailed {
		t.Fatalf("sync with failures and a withheld limit: %v; want 3", r)
	}
	if last := f.runs()[0]; last.Failed == 0 || last.Withheld == 0 {
		t.Errorf("run = %+v; want failures and withheld changes recorded", last)
	}
}

// TestPushStrategy: push creates and updates, and never touches users
// that are only in Adobe.
//
// With the usual exclude_adobe_groups: [_org_admin], push must not remove
// _org_admin first: UMAPI refuses that step and skips the create after it.
func TestPushStrategy(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	r := f.run(context.Background(), "sync", "--strategy", "push")
	if r.code != exitOK || !strings.Contains(r.stdout, "Push to UMAPI") {
		t.Fatalf("sync --strategy push: %v", r)
	}
	got := emails(f.srv.State())
	if d := cmp.Diff([]string{"all apps", "design team"}, got["dee@example.org"]); d != "" {
		t.Errorf("dee's groups after push (-want +got):\n%s", d)
	}
	if _, ok := got["cy@example.org"]; !ok {
		t.Error("push removed the Adobe-only user")
	}
}

// TestDatabaseIsPrivate: the database holds personal data; only its owner
// may read it.
func TestDatabaseIsPrivate(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	if r := f.run(context.Background(), "plan"); r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	fi, err := os.Stat(filepath.Join(f.dir, "usersync.db"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("usersync.db mode %v; want 0600", fi.Mode().Perm())
	}
}

// TestSecondaryOrg: a second org named in adobe_users.connectors.umapi
// gets its own connection, and "org::group" mappings land there.
func TestSecondaryOrg(t *testing.T) {
	f := newFixture(t, fixtureOpts{mapping: "    - directory_group: Design\n      adobe_groups: [Design Team, All Apps, eu::EU Design]\n"})
	secSeed := &sim.Seed{OrgID: "EU00EU00EU00EU00@AdobeOrg", ClientID: "eu-client", ClientSecret: "eu-secret-value",
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups:  []sim.SeedGroup{{Name: "EU Design", Type: "USER_GROUP"}},
		Users:   []sim.SeedUser{{Email: "ana@example.org", Type: "federatedID", Firstname: "Ana", Lastname: "Ruiz", Country: "ES"}}}
	sec, err := sim.New(sim.Options{Seed: secSeed})
	if err != nil {
		t.Fatal(err)
	}
	url, err := sec.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sec.Close()
	os.WriteFile(filepath.Join(f.dir, "connector-umapi-eu.yml"), []byte(fmt.Sprintf(
		"server:\n  host: %s\n  auth_host: %s\nenterprise:\n  org_id: %s\n  client_id: eu-client\n  client_secret: eu-secret-value\n", url, url, secSeed.OrgID)), 0o600)
	b, _ := os.ReadFile(f.cfg)
	os.WriteFile(f.cfg, bytes.Replace(b, []byte("    umapi: connector-umapi.yml\n"), []byte("    umapi:\n      - connector-umapi.yml\n      - eu: connector-umapi-eu.yml\n"), 1), 0o600)

	r := f.run(context.Background(), "check")
	if r.code != exitOK || !strings.Contains(r.stdout, "Adobe org eu: token obtained") {
		t.Fatalf("check with a secondary org: %v", r)
	}
	r = f.run(context.Background(), "sync")
	if r.code != exitOK {
		t.Fatalf("sync with a secondary org: %v", r)
	}
	got := emails(sec.State())
	if d := cmp.Diff([]string{"eu design"}, got["ana@example.org"]); d != "" {
		t.Errorf("ana's groups in the secondary org (-want +got):\n%s", d)
	}
	if _, ok := emails(f.srv.State())["dee@example.org"]; !ok {
		t.Error("the primary org was not synced")
	}
	if strings.Contains(r.stdout+r.stderr, "eu-secret-value") {
		t.Error("the secondary org's secret appears in the log")
	}
}

// TestExtensionHook: an after_mapping_hook runs in headless syncs, and
// explain tells what it did.
func TestExtensionHook(t *testing.T) {
	seed := smallSeed()
	seed.Groups = append(seed.Groups, sim.SeedGroup{Name: "Marketing Team", Type: "USER_GROUP"})
	f := newFixture(t, fixtureOpts{seed: seed, extraMain: "  extension: extension-config.yml\n",
		csv: "firstname,lastname,email,country,groups,dept\nAna,Ruiz,ana@example.org,ES,Design,\nBo,Berg,bo@example.org,SE,Design,\nDee,Diaz,dee@example.org,MX,Design,mkt\n"})
	os.WriteFile(filepath.Join(f.dir, "extension-config.yml"), []byte(`extended_attributes:
  - dept
extended_adobe_groups:
  - Marketing Team
after_mapping_hook: |
  if source_attributes['dept'] == 'mkt':
      target_groups.add('Marketing Team')
`), 0o600)
	r := f.run(context.Background(), "explain", "dee@example.org")
	if r.code != exitOK || !strings.Contains(r.stdout, "[hook]") || !strings.Contains(r.stdout, "Marketing Team") {
		t.Errorf("explain: %v; want a hook step adding Marketing Team", r)
	}
	if r := f.run(context.Background(), "sync"); r.code != exitOK {
		t.Fatalf("sync with a hook: %v", r)
	}
	got := emails(f.srv.State())
	if d := cmp.Diff([]string{"all apps", "design team", "marketing team"}, got["dee@example.org"]); d != "" {
		t.Errorf("dee's groups (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"all apps", "design team"}, got["bo@example.org"]); d != "" {
		t.Errorf("bo's groups (-want +got):\n%s", d)
	}
}

// TestExit130WhileReading: an interruption while the org is read sends
// nothing, exits 130 and is recorded as interrupted.
func TestExit130WhileReading(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hang := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/users/") {
				cancel()
				<-r.Context().Done()
				return
			}
			h.ServeHTTP(w, r)
		})
	}
	f := newFixture(t, fixtureOpts{wrap: hang})
	r := f.run(ctx, "sync")
	if r.code != exitInterrupt || !strings.Contains(r.stdout, "nothing was sent") {
		t.Fatalf("sync interrupted while reading: %v; want 130 saying nothing was sent", r)
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Errorf("%d action requests sent", st.Requests.Action)
	}
	if last := f.runs()[0]; last.Status != store.StatusInterrupted || last.ExitCode != exitInterrupt {
		t.Errorf("run = %s, exit %d; want interrupted, 130", last.Status, last.ExitCode)
	}
}

// TestSIGTERMExit130: a service manager's SIGTERM stops the apply cleanly:
// exit 130, the run recorded as interrupted, resumable.
func TestSIGTERMExit130(t *testing.T) {
	if testing.Short() || runtime.GOOS == "windows" {
		t.Skip("builds the binary; needs POSIX signals")
	}
	bin := binary(t)
	f := newFixture(t, fixtureOpts{csv: manyUsersCSV(150), throttle: "realistic", timeScale: 6})
	cmd := exec.Command(bin, "sync", "-c", f.cfg, "--action-rate", f.rate)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.srv.Stats().Requests.Action < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupt {
		t.Fatalf("exit %d (%v) after SIGTERM; want 130\n%s", code, err, tail(out.String(), 2000))
	}
	if !strings.Contains(out.String(), "apply --resume") {
		t.Errorf("the log does not say how to finish the run:\n%s", tail(out.String(), 2000))
	}
	if last := f.runs()[0]; last.Status != store.StatusInterrupted {
		t.Errorf("run status %q; want interrupted", last.Status)
	}
}

// TestApplyConfirmAtTerminal: at a terminal apply asks; a plan that
// deletes accounts also wants their number typed.
func TestApplyConfirmAtTerminal(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	planFile := filepath.Join(f.dir, "plan.json")
	if r := f.run(context.Background(), "plan", "-o", planFile, "--adobe-only-user-action", "delete"); r.code != exitOK {
		t.Fatalf("plan: %v", r)
	}
	apply := func(stdin string) result {
		return runEnv(context.Background(), stdin, true, "apply", planFile, "-c", f.cfg, "--action-rate", f.rate)
	}
	for _, stdin := range []string{"\n", "n\n", "y\n\n", "y\n2\n"} {
		r := apply(stdin)
		if r.code != exitFatal || !strings.Contains(r.stderr, "Nothing was sent") {
			t.Errorf("apply answering %q: %v; want exit 1, nothing sent", stdin, r)
		}
		if !strings.Contains(r.stderr, "[y/N]") {
			t.Errorf("apply answering %q did not ask", stdin)
		}
	}
	if st := f.srv.Stats(); st.Requests.Action != 0 {
		t.Fatalf("declined applies sent %d action requests", st.Requests.Action)
	}
	r := apply("yes\n1\n")
	if r.code != exitOK || !strings.Contains(r.stderr, "deletes 1 Adobe accounts") {
		t.Fatalf("apply confirmed: %v", r)
	}
	if _, ok := emails(f.srv.State())["cy@example.org"]; ok {
		t.Error("cy was not deleted")
	}
}

// TestDatabaseLocation: usersync.db beside the configuration, unless
// USERSYNC_DB or --db (which wins) name another.
func TestDatabaseLocation(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	envDB, flagDB := filepath.Join(t.TempDir(), "env.db"), filepath.Join(t.TempDir(), "flag.db")
	runWith := func(dbEnv string, args ...string) result {
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
			if k == "USERSYNC_DB" {
				return dbEnv
			}
			return os.Getenv(k)
		}}
		code := runMain(context.Background(), e, args)
		return result{code, out.String(), errb.String()}
	}
	if r := runWith(envDB, "plan", "-c", f.cfg); r.code != exitOK {
		t.Fatalf("plan with USERSYNC_DB: %v", r)
	}
	if r := runWith(envDB, "plan", "-c", f.cfg, "--db", flagDB); r.code != exitOK {
		t.Fatalf("plan with --db: %v", r)
	}
	for _, p := range []string{envDB, flagDB} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("no database at %s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(f.dir, "usersync.db")); err == nil {
		t.Error("a database was written beside the configuration despite USERSYNC_DB and --db")
	}
	if r := runWith(envDB, "history", "-c", f.cfg); r.code != exitOK || strings.Count(r.stdout, " planned ") != 1 {
		t.Errorf("history with USERSYNC_DB: %v; want the one plan run recorded there", r)
	}
}

// TestAdobeOnlyActions: each Adobe-only action does to cy (Adobe-only,
// in All Apps) what UST does.
func TestAdobeOnlyActions(t *testing.T) {
	for _, tc := range []struct {
		action string
		exists bool
		groups []string
	}{
		{"exclude", true, []string{"all apps"}},
		{"preserve", true, []string{}}, // with process-groups: mapped groups removed
		{"remove-adobe-groups", true, []string{}},
		{"remove", false, nil},
		{"delete", false, nil},
	} {
		t.Run(tc.action, func(t *testing.T) {
			f := newFixture(t, fixtureOpts{})
			if r := f.run(context.Background(), "sync", "--adobe-only-user-action", tc.action); r.code != exitOK {
				t.Fatalf("sync: %v", r)
			}
			got, ok := emails(f.srv.State())["cy@example.org"]
			if ok != tc.exists {
				t.Fatalf("cy in the org: %v; want %v", ok, tc.exists)
			}
			if ok && !cmp.Equal(got, tc.groups, cmpopts.EquateEmpty()) {
				t.Errorf("cy's groups = %q; want %q", got, tc.groups)
			}
			// The admin is never touched.
			if g := emails(f.srv.State())["admin@example.org"]; !cmp.Equal(g, []string{"_org_admin"}) {
				t.Errorf("admin's groups = %q; want [_org_admin]", g)
			}
		})
	}
}
