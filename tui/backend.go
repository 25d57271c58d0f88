package tui

import (
	"context"
	"io"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/run"
)

// Backend is everything the console needs from the rest of usersync.
// cmd/usersync implements it with core's planner and executor and the
// store; tui/fake implements it in memory.
//
// Methods that take a context may be slow and are called off the UI
// goroutine, and so are Estimate, after every exclusion, and Detail, as the
// cursor moves; both should still be quick (index the plan once, not per
// call), since the screen shows "…" until they answer.
type Backend interface {
	// Fetch reads both sides, reporting progress and throttle waits.
	Fetch(ctx context.Context, r core.Reporter) (*core.Snapshot, error)
	// Plan builds the plan from a snapshot. It returns every change,
	// including those covered by remembered exclusions: the console shows
	// them as excluded so that the operator can see and forget them.
	Plan(ctx context.Context, snap *core.Snapshot) (*core.Plan, error)
	// Mappings lists each mapped directory group with its Adobe groups.
	Mappings(snap *core.Snapshot, p *core.Plan) []MappingRow
	// Estimate is the cost of applying p without the excluded change IDs:
	// the run engine's effective exclusions (dependents held back) and
	// the requests and time they take. It must not modify exclude.
	Estimate(p *core.Plan, exclude map[int]bool) Cost
	// Detail returns what the detail pane shows for change c of plan p.
	Detail(snap *core.Snapshot, p *core.Plan, c core.Change) ChangeDetail
	// Explain tells why the user named by query is or is not synced.
	Explain(ctx context.Context, snap *core.Snapshot, query string) (*core.Explanation, error)
	// Apply sends p without the excluded change IDs and returns the run's
	// outcome (never nil). When ctx is cancelled it finishes the request
	// in flight and returns with Result.Cancelled set.
	Apply(ctx context.Context, p *core.Plan, exclude map[int]bool, r core.Reporter) *run.Outcome
	// Release moves the withheld changes r names of p, the current plan,
	// into the changes it sends, as the operator approved, and returns the
	// new plan (p itself is not modified). Licence-quota holds are refused.
	Release(ctx context.Context, p *core.Plan, r run.Release) (*core.Plan, error)
	// History lists past runs, newest first; Run returns one of them.
	History(ctx context.Context) ([]RunSummary, error)
	Run(ctx context.Context, id string) (*RunDetail, error)
	// Exclusions lists the remembered exclusions. RememberExclusion and
	// ForgetExclusion change them for this and later runs.
	Exclusions() ([]core.Exclusion, error)
	RememberExclusion(e core.Exclusion) error
	ForgetExclusion(e core.Exclusion) error

	// GroupMapping is the configured (written) group mapping.
	GroupMapping() []core.GroupMapping
	// Replan recomputes the plan from snap with mapping in place of the
	// configured one, without fetching, for the Mappings screen's edits.
	// The plan is a preview: Apply refuses it.
	Replan(ctx context.Context, snap *core.Snapshot, mapping []core.GroupMapping) (*Replanned, error)
	// MappingChanges lists the IDs of p's changes that concern the row of
	// directory group dg in mapping.
	MappingChanges(p *core.Plan, mapping []core.GroupMapping, dg string) []int
	// WriteMapping writes edits to the configuration file (a backup
	// beside it, validated before it replaces the file) and returns the
	// backup's path and the plan with the written mapping, ready to
	// apply. When it fails the file and the configured mapping are
	// unchanged.
	WriteMapping(ctx context.Context, snap *core.Snapshot, edits []config.MappingEdit) (backup string, r *Replanned, err error)
}

// Replanned is a plan recomputed with another group mapping.
type Replanned struct {
	Plan *core.Plan
	// Notes say what the snapshot cannot show for the new mapping.
	Notes    []string
	Mappings []MappingRow
}

// Cost is what sending a plan without some changes takes.
type Cost struct {
	// Excluded are the effective exclusions, held dependents included.
	Excluded run.Exclusions
	core.Estimate
}

// ToSend is the number of changes of p that are sent.
func (c Cost) ToSend(p *core.Plan) int { return len(p.Changes) - c.Excluded.Len() }

// ChangeDetail is what the review's detail pane shows beyond the change.
type ChangeDetail struct {
	// Directory and Adobe are the user's records (nil when absent).
	Directory *core.DirectoryUser
	Adobe     *core.AdobeUser
	// Hook says, in words, what the extension hook changed for this user.
	Hook []string
	// Commands are the exact UMAPI commands that carry the change; they may
	// carry the user's other changes too, since one command holds every
	// step of a user.
	Commands []core.Command
}

// MappingRow is one directory group and the Adobe groups it maps to.
type MappingRow struct {
	DirectoryGroup string
	// DirectoryMembers is the number of selected users in the group.
	DirectoryMembers int
	// DirectoryMissing is set when the directory has no such group.
	DirectoryMissing bool
	Adobe            []MappedGroup
}

// MappedGroup is one Adobe group a directory group maps to.
type MappedGroup struct {
	Org     string
	Name    string
	Members int
	// Missing is set when the org has no such group; WillCreate when the
	// plan creates it (auto_create).
	Missing    bool
	WillCreate bool
}

// RunSummary is one past run, as the history lists it.
type RunSummary struct {
	ID        string
	Started   time.Time
	Finished  time.Time
	Command   string // console, sync, apply
	TestMode  bool
	Changes   int
	Requests  int
	Succeeded int
	Failed    int
	Skipped   int
	Excluded  int
	Cancelled bool
}

// RunDetail is a past run with its per-user results.
type RunDetail struct {
	Summary    RunSummary
	Changes    []core.Change
	Results    []core.ChangeResult
	Exclusions []core.Exclusion
}

// Options configure the console.
type Options struct {
	// Title names what is being synced, e.g. "demo" or the config file.
	Title string
	// AltScreen runs the console in the terminal's alternate screen.
	AltScreen bool
	// Input and Output default to the terminal (stdin, stdout).
	Input  io.Reader
	Output io.Writer
	// NoColor turns colours off; Run also honours NO_COLOR.
	NoColor bool
	// Now is the clock used for countdowns; nil means time.Now.
	Now func() time.Time
	// Tick schedules the once-a-second redraw of countdowns; nil means
	// tea.Tick. Tests pass one that never fires and read the countdown
	// from Now instead.
	Tick func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd
}
