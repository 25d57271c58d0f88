package core

import (
	"context"
	"strings"
	"testing"
)

func TestReplanWithEditedMapping(t *testing.T) {
	s, o := troubleSnap()
	before := mustBuildPlan(t, s, o)
	fixed := []GroupMapping{
		{DirectoryGroup: "designers", AdobeGroups: []string{"Design Team"}},
		{DirectoryGroup: "Video", AdobeGroups: []string{"All Apps"}},
		{DirectoryGroup: "Engineering", AdobeGroups: []string{"Acrobat Pro"}},
		{DirectoryGroup: "Finance", AdobeGroups: []string{"Acrobat Pro"}},
	}
	after, notes, err := Replan(context.Background(), s, o, fixed)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("notes = %q; want none (every mapped group was read)", notes)
	}
	d := DiffPlans(before, after)
	dropped := map[string]Action{}
	for _, c := range d.Dropped {
		dropped[c.User.User] = c.Action
	}
	if dropped["emil@example.org"] != ActionRemoveFromOrg {
		t.Errorf("dropped = %v; want emil's removal from the org gone", dropped)
	}
	if dropped["greg@example.org"] != ActionAddGroups {
		t.Errorf("dropped = %v; want greg's blocked add gone", dropped)
	}
	for _, c := range after.Changes {
		if c.Blocked != "" {
			t.Errorf("the fixed mapping still blocks %+v", c)
		}
	}
	var resolved []string
	for _, f := range d.Resolved {
		resolved = append(resolved, f.Group)
	}
	if got := strings.Join(resolved, ","); !strings.Contains(got, "Video Team") || !strings.Contains(got, "Acrobat Standard") {
		t.Errorf("resolved findings %q; want Video Team and Acrobat Standard", got)
	}
	if len(d.Lines()) == 0 {
		t.Error("no diff lines")
	}
	// Replanning never changes the snapshot or options it is given.
	if o.GroupMapping[1].DirectoryGroup != "Video Team" || len(s.Directory.Unselected) != 1 {
		t.Error("Replan changed its inputs")
	}
	same, _, _ := Replan(context.Background(), s, o, o.GroupMapping)
	if d := DiffPlans(before, same); !d.Empty() {
		t.Errorf("replanning with the same mapping differs: %q", d.Lines())
	}
}

func TestRenderTextMarksBlockedChangesAndFindings(t *testing.T) {
	s, o := troubleSnap()
	var b strings.Builder
	if err := RenderText(&b, mustBuildPlan(t, s, o)); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`["acrobat standard"]`, "✗ NOT SENT", "Findings (", `! Adobe group "Acrobat Standard"`} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("RenderText lacks %q:\n%s", w, b.String())
		}
	}
}

func TestMappingChanges(t *testing.T) {
	s, o := troubleSnap()
	p := mustBuildPlan(t, s, o)
	var got []string
	for _, id := range MappingChanges(p, o, "Finance") {
		c := p.Changes[id]
		got = append(got, c.User.User+" "+strings.Join(c.Groups, ","))
	}
	if strings.Join(got, ";") != "greg@example.org acrobat standard" {
		t.Errorf("MappingChanges(Finance) = %q; want greg's add to acrobat standard", got)
	}
}
