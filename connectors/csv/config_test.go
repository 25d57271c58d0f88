package csv_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want csv.Config
	}{
		{"empty file: UST defaults", "", csv.Config{Columns: csv.DefaultColumns, LoggerName: "csv"}},
		{"every key", `
file_path: users.tsv
delimiter: ";"
string_encoding: latin1
email_column_name: mail
first_name_column_name: given
last_name_column_name: sn
country_column_name: c
groups_column_name: memberOf
identity_type_column_name: kind
username_column_name: uid
domain_column_name: dom
user_identity_type: EnterpriseID
logger_name: people
`, csv.Config{FilePath: "users.tsv", Delimiter: ';', Encoding: "latin1",
			Columns: csv.Columns{Email: "mail", Firstname: "given", Lastname: "sn", Country: "c", Groups: "memberOf",
				Type: "kind", Username: "uid", Domain: "dom"},
			IdentityType: core.EnterpriseID, LoggerName: "people"}},
		{"tab written as an escape in double quotes", `delimiter: "\t"`,
			csv.Config{Delimiter: '\t', Columns: csv.DefaultColumns, LoggerName: "csv"}},
		{"tab written as backslash-t", `delimiter: '\t'`,
			csv.Config{Delimiter: '\t', Columns: csv.DefaultColumns, LoggerName: "csv"}},
		{"file_encoding alias", `file_encoding: utf-16`,
			csv.Config{Encoding: "utf-16", Columns: csv.DefaultColumns, LoggerName: "csv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := config.Parse("connector-csv.yml", []byte(tc.yaml), "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := csv.ParseConfig(n)
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(csv.Config{}, "Logger")); diff != "" {
				t.Errorf("ParseConfig differs (-want +got):\n%s", diff)
			}
			if unused := n.Unused(); len(unused) > 0 {
				t.Errorf("ParseConfig left keys unread: %v", unused)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "file_path: a.csv\nemail_colum_name: mail\n",
			`connector-csv.yml:2: email_colum_name: unknown key (did you mean "email_column_name"?)`},
		{"two-character delimiter", "delimiter: ',,'\n", `connector-csv.yml:1: delimiter: must be a single character`},
		{"quote delimiter", "delimiter: '\"'\n", `connector-csv.yml:1: delimiter: must be a single character`},
		{"bad identity type", "user_identity_type: fedID\n", `connector-csv.yml:1: user_identity_type: invalid identity type "fedID"`},
		{"bad encoding", "string_encoding: klingon\n", `connector-csv.yml:1: string_encoding: unknown encoding "klingon"`},
		{"both encoding keys", "string_encoding: utf8\nfile_encoding: utf8\n", `file_encoding: give string_encoding or file_encoding, not both`},
		{"empty column name", "email_column_name: ''\n", `email_column_name: must not be empty`},
		{"list where a value belongs", "file_path: [a, b]\n", `file_path: must be a single value, not a list`},
		{"shell file name", "file_path: $(cat x)\n", `shell execution in file names is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := config.Parse("connector-csv.yml", []byte(tc.yaml), "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = csv.ParseConfig(n)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig error = %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseConfigNil(t *testing.T) {
	got, err := csv.ParseConfig(nil)
	if err != nil || got.Columns != csv.DefaultColumns {
		t.Errorf("ParseConfig(nil) = %+v, %v; want the defaults", got, err)
	}
}
