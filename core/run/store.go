package run

import (
	"time"

	"github.com/usersync/usersync/core"
)

// Status is where a run is in its lifecycle.
type Status string

// The run statuses, as the history stores them.
const (
	StatusPlanned     Status = "planned"
	StatusApplying    Status = "applying"
	StatusApplied     Status = "applied"
	StatusFailed      Status = "failed"
	StatusInterrupted Status = "interrupted"
	StatusWithheld    Status = "withheld" // applied, Adobe-only actions withheld by a limit
)

// Record is one run as the history keeps it.
type Record struct {
	ID       string
	Command  string // sync, plan, apply, console
	Started  time.Time
	Finished time.Time
	Status   Status
	ExitCode int
	TestMode bool
	// Options are the run's resolved options as text (never secrets).
	Options   map[string]string
	Counters  core.Counters
	Changes   int
	Withheld  int
	Succeeded int
	Failed    int
	Requests  int
	// Excluded lists the change IDs held back for this run: the
	// operator's exclusions, remembered ones and their dependents.
	Excluded []int
	Error    string
	// ResumedFrom names the run whose plan this run applied or resumed.
	ResumedFrom string
}

// Draft reports whether r is a plan the console made and nobody applied:
// drafts are pruned before any other run.
func (r Record) Draft() bool { return r.Command == "console" && r.Status == StatusPlanned }

// Store is the run history the engine records into. Every write error is
// returned; the engine never ignores one.
type Store interface {
	CreateRun(r Record) (Record, error)
	UpdateRun(r Record) error
	Run(id string) (Record, error)
	// Runs lists runs newest first; limit 0 means all.
	Runs(limit int) ([]Record, error)
	DeleteRun(id string) error

	SaveSnapshot(id string, s *core.Snapshot) error
	SavePlan(id string, p *core.Plan) error
	Plan(id string) (*core.Plan, error)
	SaveResults(id string, results []core.ChangeResult) error
	Results(id string) ([]core.ChangeResult, error)

	// Journal records the requests of run id as they are sent.
	Journal(id string) core.Journal
	// ResumeState is what run id's journal says was applied, and what was
	// in flight when it stopped.
	ResumeState(id string) (done map[int]bool, inFlight []int, err error)
	// Sent reports whether run id's journal records any request.
	Sent(id string) (bool, error)

	// Exclusions are the exclusions remembered in the console.
	Exclusions() ([]core.Exclusion, error)

	// PendingStore keeps the grace-period entries between runs.
	core.PendingStore
}
