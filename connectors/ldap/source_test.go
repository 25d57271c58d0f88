package ldap

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/usersync/usersync/core"
)

// progressRecorder is a core.Reporter that keeps progress reports.
type progressRecorder struct {
	core.NopReporter
	mu   sync.Mutex
	list []core.Progress
}

func (r *progressRecorder) Progress(p core.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, p)
}

func (r *progressRecorder) last() core.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.list) == 0 {
		return core.Progress{}
	}
	return r.list[len(r.list)-1]
}

func read(t *testing.T, cfg Config, q core.SourceQuery) core.DirectoryResult {
	t.Helper()
	rec := &progressRecorder{}
	res, err := New(cfg, nil).Users(context.Background(), q, rec)
	if err != nil {
		t.Fatalf("Users(%+v): %v", q, err)
	}
	if p := rec.last(); !p.Done || p.Phase != core.PhaseDirectory {
		t.Errorf("Users(%+v): last progress = %+v; want phase directory, Done", q, p)
	}
	return res
}

// summary is a compact view of users for comparisons.
type summary struct {
	Email, Username, Domain string
	Type                    core.IdentityType
	First, Last, Country    string
	Groups                  []string
}

func summarize(res core.DirectoryResult) map[string]summary {
	out := map[string]summary{}
	for _, u := range res.Users {
		out[strings.TrimSuffix(u.Origin, ","+suffix)] = summary{u.Email, u.Username, u.Domain, u.Type,
			u.Firstname, u.Lastname, u.Country, u.Groups}
	}
	return out
}

var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestUsersByMemberOf(t *testing.T) {
	needSlapd(t)
	cfg := testConfig(t, openLDAPConfig)
	res := read(t, cfg, core.SourceQuery{Groups: []string{"Designers", "Engineers", "Unix", "Nope"}})
	want := map[string]summary{
		"uid=ana,ou=people":   {"ana@example.org", "ana@example.org", "example.org", "", "Ana", "Ruiz", "ES", []string{"Designers", "Unix"}},
		"uid=bo,ou=people":    {"bo@example.org", "bo@example.org", "example.org", "", "Bo", "Chen", "US", []string{"Designers", "Engineers"}},
		"uid=zoe,ou=people":   {"zoe@example.org", "zoe@example.org", "example.org", "", "Zoë", "Ångström", "FR", []string{"Designers"}},
		"uid=multi,ou=people": {"multi@example.org", "multi@example.org", "example.org", "", "Multi", "Mail", "", []string{"Engineers"}},
	}
	if diff := cmp.Diff(want, summarize(res), sortStrings); diff != "" {
		t.Errorf("Users differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Nope"}, res.MissingGroups); diff != "" {
		t.Errorf("MissingGroups differ (-want +got):\n%s", diff)
	}
}
