package csv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/core"
)

func TestReadAdobeOnlyList(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                []core.Stray
		warnings            []string
	}{
		{
			name: "write-file output read back, UST §4.2",
			file: "strays.csv",
			content: "type,email,domain,umapi\n" +
				"federatedID,Ana@Example.org,,\n" +
				"enterpriseID,bo@example.org,,org2\n" +
				"adobeID,cy@gmail.com,,\n",
			want: []core.Stray{
				{Org: "primary", Type: core.FederatedID, Email: "ana@example.org",
					User: core.UserRef{User: "ana@example.org", Type: core.FederatedID, Email: "ana@example.org"}},
				{Org: "org2", Type: core.EnterpriseID, Email: "bo@example.org",
					User: core.UserRef{User: "bo@example.org", Type: core.EnterpriseID, Email: "bo@example.org"}},
				{Org: "primary", Type: core.AdobeID, Email: "cy@gmail.com",
					User: core.UserRef{User: "cy@gmail.com", UseAdobeID: true, Type: core.AdobeID, Email: "cy@gmail.com"}},
			},
		},
		{
			name: "tab-separated, usernames, problems warned and skipped",
			file: "strays.txt",
			content: "type\tusername\tdomain\temail\tnote\n" +
				"federatedID\tjdoe\texample.org\tjohn@example.org\tx\n" +
				"federatedID\tmsmith\texample.org\t\t\n" +
				"federatedID\t\t\t\t\n" +
				"\tkim@example.org\t\tkim@example.org\t\n" +
				"superuser\tlee@example.org\t\tlee@example.org\t\n" +
				"federatedID\tnodomain\t\t\t\n",
			want: []core.Stray{
				{Org: "primary", Type: core.FederatedID, Email: "john@example.org", Domain: "example.org",
					User: core.UserRef{User: "jdoe", Domain: "example.org", Type: core.FederatedID, Email: "john@example.org"}},
				{Org: "primary", Type: core.FederatedID, Domain: "example.org",
					User: core.UserRef{User: "msmith", Domain: "example.org", Type: core.FederatedID}},
			},
			warnings: []string{
				`FILE:1: ignoring unknown column(s) "note"; recognised columns are type, email, username, domain, umapi`,
				`FILE:3: no email for user "msmith"; the user is addressed by username`,
				`FILE:4: row skipped: no email and no username`,
				`FILE:5: row skipped: empty type`,
				`FILE:6: row skipped: invalid identity type "superuser": must be one of adobeID, enterpriseID, federatedID`,
				`FILE:7: no email for user "nodomain"; the user is addressed by username`,
				`FILE:7: row skipped: username "nodomain" has no domain`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, warnings, err := csv.ReadAdobeOnlyList(path, core.PrimaryOrg)
			if err != nil {
				t.Fatalf("ReadAdobeOnlyList: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("strays differ (-want +got):\n%s", diff)
			}
			for i := range warnings {
				warnings[i] = strings.ReplaceAll(warnings[i], path, "FILE")
			}
			if diff := cmp.Diff(tc.warnings, warnings); diff != "" {
				t.Errorf("warnings differ (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadAdobeOnlyListErrors(t *testing.T) {
	tests := []struct{ name, content, want string }{
		{"no type column", "email\na@example.org\n", "FILE:1: the header has no type column"},
		{"no email or username", "type,domain\nfederatedID,x.org\n", "FILE:1: the header has neither an email nor a username column"},
		{"empty", "", "FILE: the file is empty"},
		{"malformed", "type,email\nfederatedID,\"a@x\n", "malformed CSV"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "list.csv")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := csv.ReadAdobeOnlyList(path, core.PrimaryOrg)
			if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), path, "FILE"), tc.want) {
				t.Errorf("ReadAdobeOnlyList error = %v; want it to contain %q", err, tc.want)
			}
		})
	}
	if _, _, err := csv.ReadAdobeOnlyList("/nonexistent/list.csv", core.PrimaryOrg); core.Code(err) != core.CodeNotFound {
		t.Errorf("ReadAdobeOnlyList on a missing file: %v; want a not-found error", err)
	}
}

func TestWriteStrays(t *testing.T) {
	primaryOnly := []core.Stray{
		{Org: core.PrimaryOrg, Type: core.FederatedID, Email: "Ana@Example.org",
			User: core.UserRef{User: "ana@example.org", Type: core.FederatedID}},
		{Org: core.PrimaryOrg, Type: core.FederatedID, Email: "john@example.org", Domain: "Example.org",
			User: core.UserRef{User: "jdoe", Domain: "example.org", Type: core.FederatedID}},
	}
	withSecondary := append(primaryOnly[:1:1], core.Stray{Org: "org2", Type: core.AdobeID, Email: "cy@gmail.com",
		User: core.UserRef{User: "cy@gmail.com", UseAdobeID: true, Type: core.AdobeID}})
	tests := []struct {
		name, file string
		strays     []core.Stray
		want       string
	}{
		{"primary only, comma for .csv", "out.csv", primaryOnly,
			"type,email,domain\nfederatedID,ana@example.org,\nfederatedID,john@example.org,example.org\n"},
		{"with a secondary org, tab for .txt", "out.txt", withSecondary,
			"type\temail\tdomain\tumapi\nfederatedID\tana@example.org\t\t\nadobeID\tcy@gmail.com\t\torg2\n"},
		{"no strays: header only", "out.csv", nil, "type,email,domain\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := csv.WriteStrays(path, tc.strays); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("file differs (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("round trip", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.csv")
		if err := csv.WriteStrays(path, withSecondary); err != nil {
			t.Fatal(err)
		}
		got, warnings, err := csv.ReadAdobeOnlyList(path, core.PrimaryOrg)
		if err != nil || len(warnings) > 0 {
			t.Fatalf("ReadAdobeOnlyList = %v, %v", warnings, err)
		}
		want := []core.Stray{
			{Org: core.PrimaryOrg, Type: core.FederatedID, Email: "ana@example.org",
				User: core.UserRef{User: "ana@example.org", Type: core.FederatedID, Email: "ana@example.org"}},
			{Org: "org2", Type: core.AdobeID, Email: "cy@gmail.com",
				User: core.UserRef{User: "cy@gmail.com", UseAdobeID: true, Type: core.AdobeID, Email: "cy@gmail.com"}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("round trip differs (-want +got):\n%s", diff)
		}
	})
	t.Run("unwritable", func(t *testing.T) {
		if err := csv.WriteStrays("/nonexistent/dir/out.csv", nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/dir/out.csv") {
			t.Errorf("WriteStrays to a missing directory: %v; want an error naming the file", err)
		}
	})
}

func FuzzReadAdobeOnlyList(f *testing.F) {
	f.Add([]byte("type,email,username,domain,umapi\nfederatedID,a@x.org,,,\nadobeID,b@y.org,,,org2\n"))
	f.Add([]byte("type,username,domain\nfederatedID,jdoe,\n\"x\n"))
	// Found by the fuzzer: an email with an empty domain gave the
	// username "0" no domain (also in testdata/fuzz).
	f.Add([]byte("type,email,username\nfederAtedID,0@,0\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "list.csv")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		strays, _, err := csv.ReadAdobeOnlyList(path, core.PrimaryOrg)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, s := range strays {
			if s.Org == "" || s.User.User == "" || s.Type == "" {
				t.Fatalf("incomplete stray %+v", s)
			}
			if !strings.Contains(s.User.User, "@") && s.User.Domain == "" {
				t.Fatalf("stray %+v has a username without a domain", s)
			}
		}
	})
}
