package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

var update = flag.Bool("update", false, "rewrite golden files")

// editCase copies testdata/edit into a temporary directory, with the
// files the main configuration names, and returns the main file's path.
func editCase(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile("testdata/edit/user-sync-config.yml")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"user-sync-config.yml": string(raw),
		"connector-umapi.yml":  "server:\n  host: http://127.0.0.1:1\n  auth_host: http://127.0.0.1:1\nenterprise:\n  org_id: X@AdobeOrg\n  client_id: c\n  client_secret: s\n",
		"connector-csv.yml":    "file_path: users.csv\n",
		"users.csv":            "firstname,lastname,email,country,groups\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "user-sync-config.yml")
}

var troubleEdits = []MappingEdit{
	{Kind: EditRenameDirectoryGroup, DirectoryGroup: "Video Team", NewName: "Video"},
	{Kind: EditRemoveAdobeGroup, DirectoryGroup: "Finance", AdobeGroup: "acrobat standard"},
	{Kind: EditAddAdobeGroup, DirectoryGroup: "Finance", AdobeGroup: "Acrobat Pro"},
	{Kind: EditAddRow, DirectoryGroup: "Contractors", AdobeGroups: []string{"All Apps"}},
}

func TestEditMappingFileGolden(t *testing.T) {
	path := editCase(t)
	before, _ := os.ReadFile(path)
	backup, err := EditMappingFile(path, LoadOptions{}, troubleEdits...)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	golden := "testdata/edit/golden.yml"
	if *update {
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("edited file (-want +got):\n%s", diff)
	}
	// What matters, independent of the golden file: comments kept, key
	// order kept, the backup holds the original.
	for _, c := range []string{"# usersync configuration for the troubleshooting case.", "# Never remove more than ten", "# the CSV export of the HR system", "# Directory group → Adobe groups."} {
		if !strings.Contains(string(got), c) {
			t.Errorf("edited file lost the comment %q", c)
		}
	}
	if k, w := topKeys(string(got)), topKeys(string(before)); !slices.Equal(k, w) {
		t.Errorf("top-level keys %q; want %q in that order", k, w)
	}
	if b, _ := os.ReadFile(backup); string(b) != string(before) {
		t.Errorf("backup %s does not hold the original", backup)
	}
	cfg, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatalf("reloading the edited file: %v", err)
	}
	wantMap := []core.GroupMapping{
		{DirectoryGroup: "designers", AdobeGroups: []string{"Design Team"}},
		{DirectoryGroup: "Video", AdobeGroups: []string{"All Apps"}},
		{DirectoryGroup: "Engineering", AdobeGroups: []string{"Acrobat Pro"}},
		{DirectoryGroup: "Finance", AdobeGroups: []string{"Acrobat Pro"}},
		{DirectoryGroup: "Contractors", AdobeGroups: []string{"All Apps"}},
	}
	if diff := cmp.Diff(wantMap, cfg.Options.GroupMapping); diff != "" {
		t.Errorf("reloaded mapping (-want +got):\n%s", diff)
	}
	// The pure edit gives the same mapping as the file.
	orig, err := Load(backup, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := ApplyMappingEdits(orig.Options.GroupMapping, troubleEdits...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantMap, m); diff != "" {
		t.Errorf("ApplyMappingEdits (-want +got):\n%s", diff)
	}
}

func topKeys(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" && l[0] != ' ' && l[0] != '#' && strings.Contains(l, ":") {
			out = append(out, l[:strings.Index(l, ":")])
		}
	}
	return out
}

func TestEditMappingFileFailureLeavesOriginal(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit MappingEdit
	}{
		{"unknown group", MappingEdit{Kind: EditDeleteRow, DirectoryGroup: "Nope"}},
		// An org:: prefix naming no secondary makes the file fail to load.
		{"does not load", MappingEdit{Kind: EditAddAdobeGroup, DirectoryGroup: "Finance", AdobeGroup: "nowhere::All Apps"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := editCase(t)
			before, _ := os.ReadFile(path)
			if _, err := EditMappingFile(path, LoadOptions{}, tc.edit); err == nil {
				t.Fatal("EditMappingFile succeeded; want an error")
			}
			after, _ := os.ReadFile(path)
			if string(after) != string(before) {
				t.Error("the original changed after a failed edit")
			}
			ents, _ := os.ReadDir(filepath.Dir(path))
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") || strings.HasSuffix(e.Name(), ".bak") {
					t.Errorf("left %s behind", e.Name())
				}
			}
		})
	}
	t.Run("unwritable directory", func(t *testing.T) {
		path := editCase(t)
		dir := filepath.Dir(path)
		before, _ := os.ReadFile(path)
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		if _, err := EditMappingFile(path, LoadOptions{}, troubleEdits[0]); err == nil {
			t.Fatal("EditMappingFile succeeded in a read-only directory")
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Error("the original changed")
		}
	})
}

func TestLoadMapping(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "m.yml")
	os.WriteFile(good, []byte("groups:\n  - directory_group: Video\n    adobe_groups: [All Apps]\n"), 0o600)
	m, err := LoadMapping(good)
	if err != nil || len(m) != 1 || m[0].DirectoryGroup != "Video" {
		t.Errorf("LoadMapping = %v, %v", m, err)
	}
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("group:\n  - directory_group: Video\n"), 0o600)
	if _, err := LoadMapping(bad); err == nil || !strings.Contains(err.Error(), `did you mean "groups"`) {
		t.Errorf("LoadMapping(misspelt key) = %v; want unknown key suggesting groups", err)
	}
}
