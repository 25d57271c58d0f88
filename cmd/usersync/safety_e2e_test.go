package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/notify/smtptest"
	"github.com/usersync/usersync/connectors/secrets"
	"github.com/usersync/usersync/connectors/umapi/sim"
)

// The safety end-to-end tests run the real commands with a CSV directory
// against a fresh simulator each: the group-removal guard, the grace
// period, licence seats and notifications (issue 11).

// runAt runs a command as f.run does, with the commands' clock at now.
func (f *fixture) runAt(now time.Time, args ...string) result {
	f.t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: func() time.Time { return now },
		getenv: func(k string) string {
			if k == "USERSYNC_DB" {
				return ""
			}
			return os.Getenv(k)
		}}
	full := append([]string{args[0], "-c", f.cfg}, args[1:]...)
	if args[0] == "sync" || args[0] == "plan" || args[0] == "apply" {
		full = append(full, "--action-rate", f.rate)
	}
	code := runMain(context.Background(), e, full)
	return result{code, out.String(), errb.String()}
}

func (f *fixture) writeCSV(body string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, "users.csv"), []byte(body), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

// members returns the emails of the members of group in the org.
func members(s *sim.Seed, group string) []string {
	var out []string
	for _, u := range s.Users {
		for _, g := range u.Groups {
			if strings.EqualFold(g, group) {
				out = append(out, strings.ToLower(u.Email))
			}
		}
	}
	sortStrings(out)
	return out
}

func TestSafetyGroupRemovalGuardHoldsARenamedGroup(t *testing.T) {
	seed := &sim.Seed{OrgID: "5AFE5AFE5AFE5AFE@AdobeOrg", ClientID: testClientID, ClientSecret: testSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups:  []sim.SeedGroup{{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "Creative Cloud"}}}
	var csv strings.Builder
	csv.WriteString("firstname,lastname,email,country,groups\n")
	for i := range 30 {
		email := fmt.Sprintf("user%02d@example.org", i)
		seed.Users = append(seed.Users, sim.SeedUser{Email: email, Type: "federatedID", Firstname: "U", Lastname: fmt.Sprint(i), Country: "US", Groups: []string{"All Apps"}})
		// The directory group "Creative" was renamed "Creative Suite".
		fmt.Fprintf(&csv, "U,%d,%s,US,Creative Suite\n", i, email)
	}
	f := newFixture(t, fixtureOpts{seed: seed, csv: csv.String(),
		mapping: "    - directory_group: Creative\n      adobe_groups: [All Apps]\n",
		limit:   "10\n  max_group_removals: 10"})
	before := members(f.srv.State(), "All Apps")
	if len(before) != 30 {
		t.Fatalf("seed has %d members of All Apps; want 30", len(before))
	}
	r := f.run(context.Background(), "sync", "--users", "all", "--process-groups")
	if r.code != exitWithheld {
		t.Fatalf("sync: %v; want exit 4", r)
	}
	if d := cmp.Diff(before, members(f.srv.State(), "All Apps")); d != "" {
		t.Errorf("All Apps members after the guarded sync (-want +got):\n%s", d)
	}
	if !strings.Contains(r.stdout, `30 members of "all apps" in primary org would be removed, more than max_group_removals 10`) {
		t.Errorf("log does not give the reason:\n%s", r)
	}
	// The same run as JSON lists the 30 withheld removals and the group.
	r = f.run(context.Background(), "plan", "--users", "all", "--process-groups", "--json")
	held, holds := 0, 0
	for _, l := range strings.Split(r.stdout, "\n") {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Withheld bool   `json:"withheld"`
				Held     string `json:"held"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(l), &ev)
		if ev.Data.Withheld && ev.Data.Held == "max_group_removals" {
			held++
		}
		if ev.Type == "group_hold" {
			holds++
		}
	}
	if held != 30 || holds != 1 {
		t.Errorf("plan --json: %d withheld removals, %d group holds; want 30 and 1\n%s", held, holds, r)
	}
}

func TestSafetyGracePeriod(t *testing.T) {
	seed := smallSeed()
	seed.Users = append(seed.Users,
		sim.SeedUser{Email: "eve@example.org", Type: "federatedID", Firstname: "Eve", Lastname: "Away", Country: "US", Groups: []string{"Design Team"}},
		sim.SeedUser{Email: "fay@example.org", Type: "federatedID", Firstname: "Fay", Lastname: "Back", Country: "US", Groups: []string{"Design Team"}})
	seed.Users[1].Groups = []string{"Design Team"} // bo
	seed.Users[2].Groups = []string{"Design Team"} // cy, Adobe-only from the start
	const base = "firstname,lastname,email,country,groups\nAna,Ruiz,ana@example.org,ES,Design\nBo,Old,bo@example.org,SE,Design\n"
	f := newFixture(t, fixtureOpts{seed: seed,
		csv:     base + "Cy,Gone,cy@example.org,US,Design\n",
		mapping: "    - directory_group: Design\n      adobe_groups: [Design Team]\n",
		limit:   "10\n  adobe_only_grace_period: 4s"})
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

	// Run 1: cy stays in the directory; eve and fay are missing.
	f.writeCSV(base + "Cy,Gone,cy@example.org,US,Design\n")
	if r := f.runAt(t0, "sync", "--adobe-only-user-action", "remove"); r.code != exitOK {
		t.Fatalf("run 1: %v", r)
	}
	got := emails(f.srv.State())
	for _, u := range []string{"eve@example.org", "fay@example.org"} {
		g, ok := got[u]
		if !ok || len(g) != 0 {
			t.Errorf("after run 1, %s: in org %v, groups %v; want in the org with no group", u, ok, g)
		}
	}
	// plan lists eve as pending, with the date the removal falls due.
	r := f.runAt(t0.Add(time.Second), "plan", "--adobe-only-user-action", "remove")
	due := t0.Add(4 * time.Second).Format(time.RFC3339)
	if !strings.Contains(r.stdout, "Grace period: Adobe-only user eve@example.org, missing since "+t0.Format(time.RFC3339)+", --adobe-only-user-action remove due "+due+" (pending)") {
		t.Errorf("plan does not list eve as pending, due %s:\n%s", due, r)
	}

	// Run 2, within the period: fay is back and gets her group again.
	f.writeCSV(base + "Fay,Back,fay@example.org,US,Design\n")
	if r := f.runAt(t0.Add(2*time.Second), "sync", "--adobe-only-user-action", "remove"); r.code != exitOK {
		t.Fatalf("run 2: %v", r)
	}
	got = emails(f.srv.State())
	if d := cmp.Diff([]string{"design team"}, got["fay@example.org"]); d != "" {
		t.Errorf("fay after run 2 (-want +got):\n%s", d)
	}
	if _, ok := got["eve@example.org"]; !ok {
		t.Errorf("eve was removed within her grace period")
	}

	// Run 3, after the period: eve is removed; fay is left alone.
	r = f.runAt(t0.Add(5*time.Second), "sync", "--adobe-only-user-action", "remove", "--json")
	if r.code != exitOK {
		t.Fatalf("run 3: %v", r)
	}
	got = emails(f.srv.State())
	if _, ok := got["eve@example.org"]; ok {
		t.Errorf("eve is still in the org after her grace period")
	}
	if d := cmp.Diff([]string{"design team"}, got["fay@example.org"]); d != "" {
		t.Errorf("fay after run 3 (-want +got):\n%s", d)
	}
	// cy was first missed in run 2: she lost her group and is pending,
	// listed by --json with her due date.
	if !strings.Contains(r.stdout, `"type":"pending"`) || !strings.Contains(r.stdout, `"email":"cy@example.org"`) {
		t.Errorf("sync --json lists no pending cy:\n%s", r)
	}
	if g, ok := got["cy@example.org"]; !ok || len(g) != 0 {
		t.Errorf("cy after run 3: in org %v, groups %v; want in the org with no group", ok, g)
	}
	// usersync show of the last run lists her with her due date.
	r = f.run(context.Background(), "show", "last")
	if !strings.Contains(r.stdout, "Adobe-only users in their grace period:") || !strings.Contains(r.stdout, "cy@example.org  remove") {
		t.Errorf("show lists no pending cy:\n%s", r)
	}
}

func TestSafetyLicenceQuotaHoldsAddsPastTheQuota(t *testing.T) {
	seed := &sim.Seed{OrgID: "5EA75EA75EA75EA7@AdobeOrg", ClientID: testClientID, ClientSecret: testSecret,
		Domains: []sim.SeedDomain{{Name: "example.org", Type: "federatedID"}},
		Groups:  []sim.SeedGroup{{Name: "Acrobat Pro", Type: "PRODUCT_PROFILE", ProductName: "Acrobat", LicenseQuota: json.RawMessage(`"3"`)}},
		Users: []sim.SeedUser{
			{Email: "a1@example.org", Type: "federatedID", Firstname: "A", Lastname: "One", Country: "US", Groups: []string{"Acrobat Pro"}},
			{Email: "a2@example.org", Type: "federatedID", Firstname: "A", Lastname: "Two", Country: "US", Groups: []string{"Acrobat Pro"}},
		}}
	csv := "firstname,lastname,email,country,groups\nA,One,a1@example.org,US,PDF\nA,Two,a2@example.org,US,PDF\n"
	for i := 1; i <= 4; i++ {
		csv += fmt.Sprintf("B,%d,b%d@example.org,US,PDF\n", i, i)
	}
	f := newFixture(t, fixtureOpts{seed: seed, csv: csv, mapping: "    - directory_group: PDF\n      adobe_groups: [Acrobat Pro]\n"})
	r := f.run(context.Background(), "plan")
	if r.code != exitOK || !strings.Contains(r.stdout, `4 adds would take product profile "Acrobat Pro" (primary org) to 6 members, past its quota of 3`) {
		t.Errorf("plan: %v; want a warning naming Acrobat Pro", r)
	}
	r = f.run(context.Background(), "sync")
	if r.code != exitWithheld {
		t.Errorf("sync: %v; want exit 4", r)
	}
	// Adds are granted in user-key order: b1 gets the one free seat.
	if d := cmp.Diff([]string{"a1@example.org", "a2@example.org", "b1@example.org"}, members(f.srv.State(), "Acrobat Pro")); d != "" {
		t.Errorf("Acrobat Pro members after sync (-want +got):\n%s", d)
	}
	if !strings.Contains(r.stdout, `Seats: product profile "Acrobat Pro" (primary): 2 members before, 3 after (+4, -0), licence quota 3; 3 adds withheld`) {
		t.Errorf("sync does not show the seats:\n%s", r)
	}
}

// notifyFixture is a small sync with notifications configured by section
// (the notifications: block, indented from column 0).
func notifyFixture(t *testing.T, section string) *fixture {
	return newFixture(t, fixtureOpts{logging: "  log_to_file: False\n" + section})
}

type posted struct {
	body []byte
}

func webhookServer(t *testing.T) (*httptest.Server, chan posted) {
	got := make(chan posted, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- posted{b}
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestSafetyNotifyWebhook(t *testing.T) {
	hook, got := webhookServer(t)
	f := notifyFixture(t, fmt.Sprintf("notifications:\n  when: [failure, withheld, changes]\n  webhook:\n    url: %s/hook\n", hook.URL))
	if r := f.run(context.Background(), "sync"); r.code != exitOK {
		t.Fatalf("sync: %v", r)
	}
	var s struct {
		RunID     string `json:"run_id"`
		Outcome   string `json:"outcome"`
		ExitCode  int    `json:"exit_code"`
		Succeeded int    `json:"succeeded"`
	}
	select {
	case p := <-got:
		if err := json.Unmarshal(p.body, &s); err != nil || s.Outcome != "changes" || s.ExitCode != 0 || s.RunID == "" || s.Succeeded == 0 {
			t.Errorf("webhook body %s (%v); want the run's summary with outcome changes", p.body, err)
		}
	default:
		t.Fatal("no webhook POST after a sync that made changes")
	}
	// A failed run is reported too.
	f.srv.Close()
	f.editUMAPI("server:\n", "server:\n  retries: 1\n")
	if r := f.run(context.Background(), "sync"); r.code != exitFatal {
		t.Fatalf("sync with the org down: %v; want exit 1", r)
	}
	select {
	case p := <-got:
		if json.Unmarshal(p.body, &s); s.Outcome != "failure" || s.ExitCode != exitFatal {
			t.Errorf("webhook body %s; want outcome failure, exit 1", p.body)
		}
	default:
		t.Fatal("no webhook POST after a failed sync")
	}
}

func TestSafetyNotifyEmail(t *testing.T) {
	smtp := smtptest.Start(t, "usersync@example.org", "smtp-pass")
	t.Setenv(secrets.EnvName("usersync_e2e_smtp"), "smtp-pass")
	f := notifyFixture(t, fmt.Sprintf(`notifications:
  when: [changes]
  email:
    host: %s
    port: %d
    username: usersync@example.org
    secure_password_key: usersync_e2e_smtp
    from: usersync@example.org
    to: [it-ops@example.org]
    ca_file: %s
`, smtp.Host, smtp.Port, smtp.CAFile))
	if r := f.run(context.Background(), "sync"); r.code != exitOK {
		t.Fatalf("sync: %v", r)
	}
	msgs := smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("SMTP server got %d messages; want 1", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.User != "usersync@example.org" || !strings.Contains(m.Data, "Subject: usersync: changes (sync, exit 0)") {
		t.Errorf("message: TLS %v, user %q, data:\n%s\nwant a STARTTLS, authenticated message about the changes", m.TLS, m.User, m.Data)
	}
}

func TestSafetyNotifyWebhookDownKeepsTheExitCode(t *testing.T) {
	hook := httptest.NewServer(http.NotFoundHandler())
	url := hook.URL
	hook.Close()
	// Adobe-only cy exceeds max_adobe_only_users 0: the run exits 4.
	f := newFixture(t, fixtureOpts{limit: "0",
		logging: fmt.Sprintf("  log_to_file: False\nnotifications:\n  webhook:\n    url: %s/hook\n    timeout: 2s\n", url)})
	r := f.run(context.Background(), "sync")
	if r.code != exitWithheld {
		t.Fatalf("sync with the webhook down: %v; want exit 4, as without notifications", r)
	}
	if !strings.Contains(r.stdout, "webhook notification: POST to 127.0.0.1") || !strings.Contains(r.stdout, "the run's outcome is unchanged") {
		t.Errorf("log does not report the failed notification:\n%s", r)
	}
}
