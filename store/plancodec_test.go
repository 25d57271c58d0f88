package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

// TestDeflatePlanDecodesLikeJSON checks that a plan encoded a change at a
// time decodes to what the plan's own JSON decodes to.
func TestDeflatePlanDecodesLikeJSON(t *testing.T) {
	full := &core.Plan{Version: 1, CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Orgs: []string{core.PrimaryOrg},
		Changes: []core.Change{
			{ID: 0, Org: core.PrimaryOrg, Action: core.ActionAddGroups, Key: "federatedID,a@x.org,", Groups: []string{"<G&1>"}},
			{ID: 1, Org: core.PrimaryOrg, Action: core.ActionRemoveFromOrg, Key: "federatedID,b@x.org,"},
		},
		Warnings: []string{"w"}, DirectoryDigest: "d", UserGroups: map[string][]string{"primary": {"G"}}}
	for name, p := range map[string]*core.Plan{
		"full":       full,
		"no changes": {Version: 1, Changes: []core.Change{}},
		"nil":        {},
	} {
		data, err := deflatePlan(p)
		if err != nil {
			t.Fatal(err)
		}
		var got, want core.Plan
		if err := inflateJSON(data, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: deflatePlan decodes differently from json.Marshal (-want +got):\n%s", name, diff)
		}
	}
}
