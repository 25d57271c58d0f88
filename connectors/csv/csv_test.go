package csv_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/connectortest"
	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/core"
)

type harness struct{}

func (harness) Features() connectortest.Features {
	return connectortest.Features{AllUsers: true, ExtendedAttributes: true}
}

func (harness) NewSource(t *testing.T, d connectortest.Data) core.Source {
	var b strings.Builder
	b.WriteString("email,username,domain,firstname,lastname,country,groups,type,department\n")
	for _, u := range d.Users {
		if u.Service {
			continue // a CSV file has no filter of its own
		}
		// Each user's groups are split over two rows where it has two, to
		// exercise merging by email.
		groups := u.Groups
		if len(groups) > 1 {
			b.WriteString(u.Email + ",,,,,,\"" + groups[1] + "\",,\n")
			groups = groups[:1]
		}
		row := []string{u.Email, u.Username, u.Domain, u.Firstname, u.Lastname, u.Country,
			strings.Join(groups, ","), string(u.Type), u.Extended[connectortest.AttrDepartment]}
		b.WriteString(strings.Join(row, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return csv.New(csv.Config{FilePath: path})
}

func (harness) Unreadable(t *testing.T) core.Source {
	return csv.New(csv.Config{FilePath: filepath.Join(t.TempDir(), "missing.csv")})
}

func TestConformance(t *testing.T) { connectortest.Run(t, harness{}) }

// read writes content to a file named name and reads it with cfg,
// returning the users and the warnings logged.
func read(t *testing.T, name string, content []byte, cfg csv.Config, q core.SourceQuery) (core.DirectoryResult, []string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg.FilePath = path
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "logger" {
				return slog.Attr{}
			}
			return a
		},
	}))
	res, err := csv.New(cfg).Users(context.Background(), q, nil)
	for i := range res.Users {
		res.Users[i].Origin = strings.ReplaceAll(res.Users[i].Origin, path, "FILE")
	}
	var warnings []string
	for l := range strings.Lines(logs.String()) {
		l = strings.ReplaceAll(strings.TrimSpace(l), path, "FILE")
		warnings = append(warnings, l)
	}
	return res, warnings, err
}

func TestUsers(t *testing.T) {
	all := core.SourceQuery{AllUsers: true}
	tests := []struct {
		name     string
		file     string
		content  string
		cfg      csv.Config
		q        core.SourceQuery
		want     []core.DirectoryUser
		missing  []string
		warnings []string
	}{
		{
			name: "defaults, UST §4.1",
			file: "users.csv",
			content: "firstname,lastname,email,country,groups,type,username,domain\n" +
				"Ana,Ruiz,ana@example.org,es,Design,federatedID,,\n",
			q: all,
			want: []core.DirectoryUser{{Type: core.FederatedID, Username: "ana@example.org", Email: "ana@example.org",
				Firstname: "Ana", Lastname: "Ruiz", Country: "ES", Groups: []string{"Design"}, MemberGroups: []string{"Design"},
				Attributes: map[string]any{"firstname": "Ana", "lastname": "Ruiz", "email": "ana@example.org", "country": "es",
					"groups": "Design", "type": "federatedID", "username": nil, "domain": nil},
				Origin: "FILE:2"}},
		},
		{
			name: "rows merged by email: later non-empty values win, groups append, username and type reset",
			file: "users.csv",
			content: "email,firstname,lastname,groups,username,type,country\n" +
				"jo@example.org,Jo,Old,\"A,B\",jo1,enterpriseID,fr\n" +
				"jo@example.org,,New,\"B,C\",,,\n",
			cfg: csv.Config{IdentityType: core.FederatedID},
			q:   all,
			want: []core.DirectoryUser{{Type: core.FederatedID, Username: "jo@example.org", Email: "jo@example.org",
				Firstname: "Jo", Lastname: "New", Country: "FR", Groups: []string{"A", "B", "C"}, MemberGroups: []string{"A", "B", "C"},
				Attributes: map[string]any{"firstname": nil, "lastname": "New", "email": "jo@example.org", "country": nil,
					"groups": "B,C", "type": nil, "username": nil, "domain": nil},
				Origin: "FILE:2,3"}},
		},
		{
			name:    "groups are not trimmed; a username that is not the email takes the email's domain",
			file:    "users.csv",
			content: "email,username,groups\nli@example.org,li,\"Sales, Marketing\"\n",
			q:       all,
			want: []core.DirectoryUser{{Username: "li", Domain: "example.org", Email: "li@example.org",
				Groups: []string{"Sales", " Marketing"}, MemberGroups: []string{"Sales", " Marketing"},
				Attributes: map[string]any{"firstname": nil, "lastname": nil, "email": "li@example.org", "country": nil,
					"groups": "Sales, Marketing", "type": nil, "username": "li", "domain": nil},
				Origin: "FILE:2"}},
		},
		{
			name: "rows without email skipped with a warning naming the line",
			file: "users.csv",
			content: "email,firstname\n" +
				",Nobody\n" +
				"not-an-email,Bad\n" +
				"ok@example.org,Ok\n",
			q: all,
			want: []core.DirectoryUser{{Username: "ok@example.org", Email: "ok@example.org", Firstname: "Ok",
				Attributes: map[string]any{"firstname": "Ok", "lastname": nil, "email": "ok@example.org", "country": nil,
					"groups": nil, "type": nil, "username": nil, "domain": nil},
				Origin: "FILE:4"}},
			warnings: []string{
				`level=WARN msg="FILE:2: row skipped: no email address in column \"email\""`,
				`level=WARN msg="FILE:3: row skipped: email \"not-an-email\" has no @"`,
			},
		},
		{
			name: "an invalid type drops the user, earlier rows included",
			file: "users.csv",
			content: "email,type,groups\n" +
				"x@example.org,federatedID,A\n" +
				"x@example.org,superuser,B\n" +
				"y@example.org,adobeid,A\n",
			q: all,
			want: []core.DirectoryUser{{Type: core.AdobeID, Username: "y@example.org", Email: "y@example.org",
				Groups: []string{"A"}, MemberGroups: []string{"A"},
				Attributes: map[string]any{"firstname": nil, "lastname": nil, "email": "y@example.org", "country": nil,
					"groups": "A", "type": "adobeid", "username": nil, "domain": nil},
				Origin: "FILE:4"}},
			warnings: []string{`level=WARN msg="FILE:3: user x@example.org skipped: invalid identity type \"superuser\": must be one of adobeID, enterpriseID, federatedID"`},
		},
		{
			name: "configured column names, delimiter and group selection",
			file: "people.txt",
			content: "mail;given;grp\n" +
				"a@example.org;A;G1\n" +
				"b@example.org;B;G2\n",
			cfg: csv.Config{Delimiter: ';', Columns: csv.Columns{Email: "mail", Firstname: "given", Groups: "grp",
				Lastname: "lastname", Country: "country", Type: "type", Username: "username", Domain: "domain"}},
			q: core.SourceQuery{Groups: []string{"G1", "G3"}},
			want: []core.DirectoryUser{{Username: "a@example.org", Email: "a@example.org", Firstname: "A",
				Groups: []string{"G1"}, MemberGroups: []string{"G1"},
				Attributes: map[string]any{"given": "A", "lastname": nil, "mail": "a@example.org", "country": nil,
					"grp": "G1", "type": nil, "username": nil, "domain": nil},
				Origin: "FILE:2"}},
			missing: []string{"G3"},
		},
		{
			name:    "tab delimiter for a .tsv file; unknown columns warned once; extended attributes",
			file:    "users.tsv",
			content: "email\tbc\tnote\tother\nz@example.org\tUS123\t\tx\n",
			q:       core.SourceQuery{AllUsers: true, ExtendedAttributes: []string{"bc", "subco"}},
			want: []core.DirectoryUser{{Username: "z@example.org", Email: "z@example.org",
				Attributes: map[string]any{"firstname": nil, "lastname": nil, "email": "z@example.org", "country": nil,
					"groups": nil, "type": nil, "username": nil, "domain": nil, "bc": "US123", "subco": nil},
				Origin: "FILE:2"}},
			warnings: []string{`level=WARN msg="FILE: ignoring unknown column(s) \"note\", \"other\"; recognised columns are firstname, lastname, email, country, groups, type, username, domain, bc, subco"`},
		},
		{
			name:    "UTF-8 byte-order mark dropped, non-ASCII kept",
			file:    "users.csv",
			content: "\xef\xbb\xbfemail,firstname\nzoe@example.org,Zoë\n",
			q:       all,
			want: []core.DirectoryUser{{Username: "zoe@example.org", Email: "zoe@example.org", Firstname: "Zoë",
				Attributes: map[string]any{"firstname": "Zoë", "lastname": nil, "email": "zoe@example.org", "country": nil,
					"groups": nil, "type": nil, "username": nil, "domain": nil},
				Origin: "FILE:2"}},
		},
		{
			name:    "latin1 encoding",
			file:    "users.csv",
			content: "email,firstname\nzoe@example.org,Zo\xeb\n",
			cfg:     csv.Config{Encoding: "latin1"},
			q:       all,
			want: []core.DirectoryUser{{Username: "zoe@example.org", Email: "zoe@example.org", Firstname: "Zoë",
				Attributes: map[string]any{"firstname": "Zoë", "lastname": nil, "email": "zoe@example.org", "country": nil,
					"groups": nil, "type": nil, "username": nil, "domain": nil},
				Origin: "FILE:2"}},
		},
		{
			name:    "header only: no users, no error",
			file:    "users.csv",
			content: "email,groups\n",
			q:       core.SourceQuery{Groups: []string{"G"}},
			missing: []string{"G"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := read(t, tc.file, []byte(tc.content), tc.cfg, tc.q)
			if err != nil {
				t.Fatalf("Users: %v", err)
			}
			if diff := cmp.Diff(tc.want, got.Users); diff != "" {
				t.Errorf("Users differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.missing, got.MissingGroups); diff != "" {
				t.Errorf("MissingGroups differ (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsersUTF16(t *testing.T) {
	// "email,firstname\nzoe@example.org,Zoë\n" in UTF-16 LE with a BOM.
	text := "email,firstname\nzoe@example.org,Zoë\n"
	var content []byte
	content = append(content, 0xff, 0xfe)
	for _, r := range text {
		content = append(content, byte(r), byte(r>>8))
	}
	got, _, err := read(t, "users.csv", content, csv.Config{Encoding: "utf-16"}, core.SourceQuery{AllUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Users) != 1 || got.Users[0].Firstname != "Zoë" {
		t.Errorf("Users = %+v; want one user named Zoë", got.Users)
	}
}

func TestUsersErrors(t *testing.T) {
	tests := []struct {
		name, file, content string
		cfg                 csv.Config
		want                string // substring of the error, with FILE for the path
		code                core.ErrorCode
	}{
		{"bare quote", "users.csv", "email,firstname\na@example.org,Jo\"e\n", csv.Config{},
			`FILE:2:17: malformed CSV: bare " in non-quoted-field`, core.CodeInvalidInput},
		{"unterminated quote", "users.csv", "email,firstname\na@example.org,\"Joe\nb@example.org,x\n", csv.Config{},
			`FILE:2: malformed CSV: a quoted field starting in the row at line 2 is not closed properly (the parser only noticed at line 3)`, core.CodeInvalidInput},
		{"unterminated quote far above a later quote", "users.csv",
			"email,firstname\na@example.org,\"Joe\n" + strings.Repeat("b@example.org,x\n", 500) + "c@example.org,\"Ann\"\n", csv.Config{},
			`FILE:2: malformed CSV: a quoted field starting in the row at line 2`, core.CodeInvalidInput},
		{"empty file", "users.csv", "", csv.Config{}, "FILE: the file is empty", core.CodeInvalidInput},
		{"no email column", "users.csv", "mail,firstname\n", csv.Config{}, `FILE:1: the header has no "email" column`, core.CodeInvalidInput},
		{"invalid UTF-8", "users.csv", "email\na@example.org\nb\xff@example.org\n", csv.Config{}, "FILE:3: not valid UTF-8", core.CodeInvalidInput},
		{"wrong encoding", "users.csv", "email\n", csv.Config{Encoding: "klingon"}, `FILE: unknown encoding "klingon"`, core.CodeInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			tc.cfg.FilePath = path
			res, err := csv.New(tc.cfg).Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
			if err == nil {
				t.Fatalf("Users = %+v, no error; want an error containing %q", res, tc.want)
			}
			if msg := strings.ReplaceAll(err.Error(), path, "FILE"); !strings.Contains(msg, tc.want) {
				t.Errorf("Users error = %q; want it to contain %q", msg, tc.want)
			}
			if got := core.Code(err); got != tc.code {
				t.Errorf("Users error code = %v; want %v", got, tc.code)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := csv.New(csv.Config{FilePath: "/nonexistent/users.csv"}).Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
		if err == nil || !strings.Contains(err.Error(), "/nonexistent/users.csv") || core.Code(err) != core.CodeNotFound {
			t.Errorf("Users on a missing file: error %v (code %v); want a not-found error naming the file", err, core.Code(err))
		}
	})
	t.Run("no path", func(t *testing.T) {
		_, err := csv.New(csv.Config{}).Users(context.Background(), core.SourceQuery{AllUsers: true}, nil)
		if err == nil || !strings.Contains(err.Error(), "--connector csv PATH") {
			t.Errorf("Users without a path: error %v; want one saying how to give the file", err)
		}
	})
}

func TestUsersCancelledMidFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("email\n")
	for i := range 5000 {
		b.WriteString("u" + strings.Repeat("x", i%7) + "@example.org\n")
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rep := &cancelAfterProgress{cancel: cancel}
	_, err := csv.New(csv.Config{FilePath: path}).Users(ctx, core.SourceQuery{AllUsers: true}, rep)
	if core.Code(err) != core.CodeCanceled {
		t.Errorf("Users cancelled mid-file: error %v; want a cancelled error", err)
	}
}

// TestUsersHugeGroupsCell reads a groups cell of a million names, most of
// them repeated, across two rows of one user. The de-duplication was
// quadratic (over ten minutes); it must be linear, so this finishes well
// inside the test timeout.
func TestUsersHugeGroupsCell(t *testing.T) {
	if testing.Short() {
		t.Skip("a million group names")
	}
	const names, distinct = 1_000_000, 200_000
	var cell strings.Builder
	for i := range names {
		if i > 0 {
			cell.WriteByte(',')
		}
		fmt.Fprintf(&cell, "g%d", i%distinct)
	}
	content := "email,groups\na@example.org,\"" + cell.String() + "\"\na@example.org,\"g1,extra\"\n"
	res, _, err := read(t, "users.csv", []byte(content), csv.Config{}, core.SourceQuery{AllUsers: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Users) != 1 {
		t.Fatalf("Users = %d users; want 1", len(res.Users))
	}
	g := res.Users[0].Groups
	if len(g) != distinct+1 || g[0] != "g0" || g[distinct-1] != fmt.Sprintf("g%d", distinct-1) || g[distinct] != "extra" {
		t.Errorf("Users groups: %d names, first %q, last %q; want %d names in first-seen order ending in extra",
			len(g), g[0], g[len(g)-1], distinct+1)
	}
}

// TestUsersCancelledInsideGroupsCell cancels while one row's groups cell
// is being split: the read stops there instead of finishing the cell.
func TestUsersCancelledInsideGroupsCell(t *testing.T) {
	var cell strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&cell, "g%d,", i)
	}
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte("email,groups\na@example.org,\""+cell.String()+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The context turns cancelled after a few checks: the one before the
	// file is read, then some inside the cell.
	ctx := &cancelAfterChecks{Context: context.Background(), left: 3}
	_, err := csv.New(csv.Config{FilePath: path}).Users(ctx, core.SourceQuery{AllUsers: true}, nil)
	if core.Code(err) != core.CodeCanceled {
		t.Errorf("Users cancelled inside a groups cell: error %v; want a cancelled error", err)
	}
}

// cancelAfterChecks is a context whose Err turns context.Canceled after
// left calls.
type cancelAfterChecks struct {
	context.Context
	left int
}

func (c *cancelAfterChecks) Err() error {
	if c.left--; c.left < 0 {
		return context.Canceled
	}
	return nil
}

type cancelAfterProgress struct {
	core.NopReporter
	cancel func()
}

func (c *cancelAfterProgress) Progress(core.Progress) { c.cancel() }

func TestDelimiterFor(t *testing.T) {
	for path, want := range map[string]rune{"a.csv": ',', "A.CSV": ',', "a.tsv": '\t', "a.txt": '\t', "a": '\t'} {
		if got := csv.DelimiterFor(path); got != want {
			t.Errorf("DelimiterFor(%q) = %q; want %q", path, got, want)
		}
	}
}

func FuzzReadUsers(f *testing.F) {
	f.Add([]byte("email,firstname,groups,type\na@example.org,A,\"g1,g2\",federatedID\n"))
	f.Add([]byte("\xef\xbb\xbfemail\n\"a@x\"\n,\n"))
	f.Add([]byte("email,type\na@x,bogus\na@x,adobeID\n"))
	f.Add([]byte("email\na@x\"\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "users.csv")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := csv.New(csv.Config{FilePath: path}).Users(context.Background(),
			core.SourceQuery{AllUsers: true, ExtendedAttributes: []string{"x"}}, nil)
		if err != nil {
			if core.Code(err) != core.CodeInvalidInput || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q: want an invalid-input error naming the file", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, u := range res.Users {
			if !strings.Contains(u.Email, "@") || u.Username == "" || u.Origin == "" {
				t.Fatalf("bad user %+v", u)
			}
			if seen[u.Email] {
				t.Fatalf("user %s returned twice", u.Email)
			}
			seen[u.Email] = true
		}
	})
}

// BenchmarkUsers reads a users file of 100,000 rows in 20 groups, as with
// --users mapped.
func BenchmarkUsers(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("firstname,lastname,email,country,groups,type\n")
	for i := range 100_000 {
		fmt.Fprintf(&sb, "First%d,Last%d,user%d@example.org,us,\"Group %d,All Staff\",federatedID\n", i, i, i, i%20)
	}
	path := filepath.Join(b.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	src := csv.New(csv.Config{FilePath: path})
	q := core.SourceQuery{Groups: []string{"Group 1", "Group 2", "All Staff"}}
	b.SetBytes(int64(sb.Len()))
	for b.Loop() {
		res, err := src.Users(context.Background(), q, nil)
		if err != nil || len(res.Users) != 100_000 {
			b.Fatalf("Users = %d users, %v", len(res.Users), err)
		}
	}
}

// TestNoAttributes checks that a query without attributes reads the same
// users, only without their source attributes.
func TestNoAttributes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.csv")
	data := "firstname,lastname,email,country,groups,type\n" +
		"Ana,Ruiz,ana@example.org,es,\"A,B\",\n" +
		"Bo,,bo@example.org,SE,B,federatedID\n" +
		",New,ana@example.org,,\"C,A\",\n" +
		"X,Y,x@example.org,US,A,bogus\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	src := csv.New(csv.Config{FilePath: path, IdentityType: core.FederatedID})
	q := core.SourceQuery{AllUsers: true, Groups: []string{"A", "Z"}}
	want, err := src.Users(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	q.NoAttributes = true
	got, err := src.Users(context.Background(), q, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Users {
		if want.Users[i].Attributes == nil {
			t.Errorf("user %s has no attributes without NoAttributes", want.Users[i].Email)
		}
		want.Users[i].Attributes = nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Users with NoAttributes differ (-want +got):\n%s", diff)
	}
}
