package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

func TestHoldDependents(t *testing.T) {
	plan := &core.Plan{Changes: []core.Change{
		{ID: 0, Org: "primary", Key: "k-dee", Action: core.ActionCreate},
		{ID: 1, Org: "primary", Key: "k-dee", Action: core.ActionAddGroups},
		{ID: 2, Org: "eu", Key: "k-dee", Action: core.ActionAddGroups}, // another org: its own account
		{ID: 3, Org: "primary", Key: "k-bo", Action: core.ActionUpdate},
		{ID: 4, Org: "primary", Key: "k-bo", Action: core.ActionAddGroups},
	}}
	for _, tc := range []struct {
		name    string
		exclude map[int]bool
		want    []int
	}{
		{"nothing", nil, nil},
		{"a create holds its user's changes", map[int]bool{0: true}, []int{0, 1}},
		{"a group add alone holds nothing more", map[int]bool{1: true}, []int{1}},
		{"an update holds nothing more", map[int]bool{3: true}, []int{3}},
	} {
		in := map[int]bool{}
		for k, v := range tc.exclude {
			in[k] = v
		}
		got := sortedIDs(holdDependents(plan, in))
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s: holdDependents (-want +got):\n%s", tc.name, d)
		}
		if !cmp.Equal(in, tc.exclude) && !(len(in) == 0 && len(tc.exclude) == 0) {
			t.Errorf("%s: holdDependents changed its argument to %v", tc.name, in)
		}
	}
}
