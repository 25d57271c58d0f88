package tui_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// misspelt maps "Sales Team", which the directory calls "Sales", with a
// comment the written file must keep.
const misspelt = `    - directory_group: Design
      adobe_groups: [Design Team, All Apps]
    - directory_group: Marketing
      adobe_groups: [Marketing Team]
    # Sales seats are paid by the sales budget.
    - directory_group: Sales Team
      adobe_groups: [Acrobat Pro]
    - directory_group: Engineering
      adobe_groups: ["secondary::Dev Tools"]
    - directory_group: Contractors
      adobe_groups: [Contractor Access]
`

// hasFinding reports whether p has a finding of kind about group g.
func hasFinding(p *core.Plan, kind core.FindingKind, g string) *core.Finding {
	for i, f := range p.Findings {
		if f.Kind == kind && f.Group == g {
			return &p.Findings[i]
		}
	}
	return nil
}

// addsTo counts the changes of p that add someone (or create someone)
// into Adobe group g.
func addsTo(p *core.Plan, g string) int {
	n := 0
	for _, c := range p.Changes {
		if (c.Action == core.ActionAddGroups || c.Action == core.ActionCreate) && slices.ContainsFunc(c.Groups, func(x string) bool { return strings.EqualFold(x, g) }) {
			n++
		}
	}
	return n
}

func (d *driver) replanned() {
	d.T.Helper()
	d.until("the replan", func() bool { return !d.m.MappingBusy() })
}

func TestMappingEditRenameUndoWrite(t *testing.T) {
	e := newEnv(t, envOpts{mapping: misspelt})
	d := ready(t, e.b, e.clock, 80, 24)
	before := d.m.Plan()
	f := hasFinding(before, core.FindingDirectoryGroupMissing, "Sales Team")
	if f == nil || f.Suggestion != "Sales" {
		t.Fatalf("no finding for Sales Team with the suggestion Sales: %+v", before.Findings)
	}
	if v := d.m.View(); !strings.Contains(v, `"Sales Team" not in the directory (did you mean "Sales"?)`) {
		t.Errorf("the review has no findings banner:\n%s", v)
	}
	beforeAdds := addsTo(before, "Acrobat Pro")

	// Rename "Sales Team" to the suggested name: the prompt offers it.
	d.press("3", "j", "j", "r")
	if !d.m.Typing() || !strings.Contains(d.m.View(), `rename "Sales Team" to: Sales`) {
		t.Fatalf("r did not offer the suggestion:\n%s", d.m.View())
	}
	d.press("enter")
	d.replanned()
	after := d.m.Plan()
	if after == before {
		t.Fatal("the plan was not recomputed")
	}
	if hasFinding(after, core.FindingDirectoryGroupMissing, "Sales Team") != nil {
		t.Errorf("the finding survived the rename: %+v", after.Findings)
	}
	if got := addsTo(after, "Acrobat Pro"); got <= beforeAdds {
		t.Errorf("adds to Acrobat Pro: %d before, %d after the rename; want more", beforeAdds, got)
	}
	diff := strings.Join(d.m.MappingDiff(), "\n")
	if !strings.Contains(diff, "Acrobat Pro") || !strings.Contains(diff, "resolved:") {
		t.Errorf("the difference does not name the new adds and the resolved finding:\n%s", diff)
	}
	if v := d.m.View(); !strings.Contains(v, "1 edit not written") {
		t.Errorf("the screen does not say an edit waits:\n%s", v)
	}
	// The preview cannot be approved.
	d.press("2", "A")
	if open, _ := d.m.Dialog(); open {
		t.Error("a plan with unwritten mapping edits was offered for approval")
	}

	// u restores the configured plan.
	d.press("3", "u")
	d.replanned()
	if d.m.Plan() != before || len(d.m.MappingEdits()) != 0 {
		t.Fatalf("undo did not restore the plan: edits %v", d.m.MappingEdits())
	}

	// Rename again and write.
	path := filepath.Join(e.dir, "user-sync-config.yml")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d.press("r", "enter")
	d.replanned()
	d.press("w", "enter")
	d.replanned()
	msg, errText := d.m.MappingOutcome()
	if errText != "" || !strings.Contains(msg, "backup") {
		t.Fatalf("write: %q, error %q", msg, errText)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(written)
	if !strings.Contains(text, "# Sales seats are paid by the sales budget.") {
		t.Errorf("the comment was lost:\n%s", text)
	}
	order := []string{"adobe_users:", "directory_users:", "limits:", "logging:", "invocation_defaults:"}
	for i := 1; i < len(order); i++ {
		if strings.Index(text, order[i-1]) > strings.Index(text, order[i]) {
			t.Errorf("key order changed: %s after %s:\n%s", order[i-1], order[i], text)
		}
	}
	cfg, err := config.Load(path, config.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(cfg.Options.GroupMapping, func(g core.GroupMapping) bool { return g.DirectoryGroup == "Sales" }); i < 0 {
		t.Errorf("the reloaded mapping has no Sales row: %+v", cfg.Options.GroupMapping)
	}
	backups, _ := filepath.Glob(path + ".*.bak")
	if len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	if b, _ := os.ReadFile(backups[0]); !bytes.Equal(b, orig) {
		t.Error("the backup is not the original file")
	}
	// The engine plans with the written mapping, and the review shows
	// that plan, ready to apply.
	if !slices.ContainsFunc(e.eng.Options.GroupMapping, func(g core.GroupMapping) bool { return g.DirectoryGroup == "Sales" }) {
		t.Errorf("the engine's mapping was not replaced: %+v", e.eng.Options.GroupMapping)
	}
	if p := d.m.Plan(); addsTo(p, "Acrobat Pro") <= beforeAdds || len(d.m.MappingEdits()) != 0 {
		t.Errorf("after the write the review does not show the new plan")
	}
	d.press("2", "A")
	if open, _ := d.m.Dialog(); !open {
		t.Errorf("the written plan cannot be approved:\n%s", d.m.View())
	}
}

func TestMappingWriteFailureLeavesFile(t *testing.T) {
	e := newEnv(t, envOpts{mapping: misspelt})
	d := ready(t, e.b, e.clock, 80, 24)
	path := filepath.Join(e.dir, "user-sync-config.yml")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// An Adobe group of an org the configuration does not declare: the
	// edit previews, but the edited file does not load, so it is refused.
	d.press("3", "a")
	d.typ("nosuch::Team")
	d.press("enter")
	d.replanned()
	if len(d.m.MappingEdits()) != 1 {
		_, e := d.m.MappingOutcome()
		t.Fatalf("the edit was not taken: %s", e)
	}
	d.press("w", "enter")
	d.replanned()
	_, errText := d.m.MappingOutcome()
	if !strings.Contains(errText, "was not changed") {
		t.Errorf("the failed write does not say why: %q", errText)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, orig) {
		t.Error("a failed write changed the configuration file")
	}
	if len(d.m.MappingEdits()) != 1 {
		t.Error("a failed write dropped the edit")
	}
	if !strings.Contains(d.m.View(), "does not load") {
		t.Errorf("the screen does not show the failure:\n%s", d.m.View())
	}
	if bs, _ := filepath.Glob(path + ".*.bak"); len(bs) != 0 {
		t.Errorf("a failed write left a backup: %v", bs)
	}
}

func TestMappingEnterFiltersReview(t *testing.T) {
	d, e := start(t, envOpts{})
	all := d.m.Shown()
	d.press("3", "enter")
	if d.screen() != "Review" || d.m.ReviewOnly() != "mapping:Design" {
		t.Fatalf("enter: screen %s, filter %q", d.screen(), d.m.ReviewOnly())
	}
	want := core.MappingChanges(d.m.Plan(), e.eng.Options, "Design")
	if len(want) == 0 || d.m.Shown() != len(want) || d.m.Shown() >= all {
		t.Errorf("shown %d of %d; want the %d changes of Design", d.m.Shown(), all, len(want))
	}
	if v := d.m.View(); !strings.Contains(v, "mapping:Design") {
		t.Errorf("the filter line does not name the mapping:\n%s", v)
	}
	d.press("esc")
	if d.m.Shown() != all || d.m.ReviewOnly() != "" {
		t.Errorf("esc: shown %d of %d, filter %q", d.m.Shown(), all, d.m.ReviewOnly())
	}
}

func TestMappingAddAndDeleteRow(t *testing.T) {
	e := newEnv(t, envOpts{mapping: misspelt})
	d := ready(t, e.b, e.clock, 80, 24)
	before := d.m.Plan()
	if hasFinding(before, core.FindingUnmappedGroup, "Sales") == nil {
		t.Fatalf("no finding for the unmapped Sales: %+v", before.Findings)
	}
	// The five rows, then the unmapped Sales: n offers its name.
	d.press("3", "G", "n")
	if v := d.m.View(); !strings.Contains(v, "new row: directory group: Sales") {
		t.Fatalf("n did not offer the unmapped group:\n%s", v)
	}
	d.press("enter")
	d.typ("Acrobat Pro")
	d.press("enter")
	d.replanned()
	p := d.m.Plan()
	if hasFinding(p, core.FindingUnmappedGroup, "Sales") != nil {
		t.Errorf("Sales is still unmapped: %+v", p.Findings)
	}
	if addsTo(p, "Acrobat Pro") <= addsTo(before, "Acrobat Pro") {
		t.Errorf("the new row added nobody to Acrobat Pro")
	}
	// Delete the misspelt row.
	d.press("g", "j", "j", "d", "y")
	d.replanned()
	if got := d.m.MappingEdits(); len(got) != 2 || got[1].Kind != config.EditDeleteRow || got[1].DirectoryGroup != "Sales Team" {
		t.Fatalf("edits %+v", got)
	}
	if hasFinding(d.m.Plan(), core.FindingDirectoryGroupMissing, "Sales Team") != nil {
		t.Errorf("the deleted row's finding remains")
	}
	if strings.Contains(d.m.View(), "✗ Sales Team") {
		t.Errorf("the deleted row is still shown:\n%s", d.m.View())
	}
}
