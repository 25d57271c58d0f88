package store

import (
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/run"
	bolt "go.etcd.io/bbolt"
)

// RunStore is the database as the run engine records into it.
type RunStore struct{ db *DB }

var _ run.Store = RunStore{}

// Pending returns the grace-period entries by user key.
func (s RunStore) Pending() (map[string]core.PendingUser, error) { return s.db.Pending() }

// SavePending replaces the grace-period entries.
func (s RunStore) SavePending(ps []core.PendingUser) error { return s.db.SavePending(ps) }

// RunStore returns the database as the run engine's store.
func (db *DB) RunStore() RunStore { return RunStore{db} }

func toRecord(i RunInfo) run.Record {
	return run.Record{ID: i.ID, Command: i.Command, Started: i.Started, Finished: i.Finished, Status: run.Status(i.Status),
		ExitCode: i.ExitCode, TestMode: i.TestMode, Options: i.Options, Counters: i.Counters, Changes: i.Changes,
		Withheld: i.Withheld, Succeeded: i.Succeeded, Failed: i.Failed, Requests: i.Requests, Excluded: i.Excluded,
		Error: i.Error, ResumedFrom: i.ResumedFrom}
}

func fromRecord(r run.Record) RunInfo {
	return RunInfo{ID: r.ID, Command: r.Command, Started: r.Started, Finished: r.Finished, Status: string(r.Status),
		ExitCode: r.ExitCode, TestMode: r.TestMode, Options: r.Options, Counters: r.Counters, Changes: r.Changes,
		Withheld: r.Withheld, Succeeded: r.Succeeded, Failed: r.Failed, Requests: r.Requests, Excluded: r.Excluded,
		Error: r.Error, ResumedFrom: r.ResumedFrom}
}

// CreateRun records a new run.
func (s RunStore) CreateRun(r run.Record) (run.Record, error) {
	i, err := s.db.CreateRun(fromRecord(r))
	return toRecord(i), err
}

// UpdateRun rewrites a run's record.
func (s RunStore) UpdateRun(r run.Record) error { return s.db.UpdateRun(fromRecord(r)) }

// Run returns one run's record.
func (s RunStore) Run(id string) (run.Record, error) {
	i, err := s.db.Run(id)
	return toRecord(i), err
}

// Runs lists runs newest first; limit 0 means all.
func (s RunStore) Runs(limit int) ([]run.Record, error) {
	is, err := s.db.Runs(limit)
	out := make([]run.Record, len(is))
	for k, i := range is {
		out[k] = toRecord(i)
	}
	return out, err
}

// DeleteRun deletes a run with everything recorded for it.
func (s RunStore) DeleteRun(id string) error { return s.db.DeleteRun(id) }

// SaveSnapshot stores a run's snapshots.
func (s RunStore) SaveSnapshot(id string, snap *core.Snapshot) error {
	return s.db.SaveSnapshot(id, snap)
}

// SavePlan stores a run's plan.
func (s RunStore) SavePlan(id string, p *core.Plan) error { return s.db.SavePlan(id, p) }

// Plan returns a run's plan.
func (s RunStore) Plan(id string) (*core.Plan, error) { return s.db.Plan(id) }

// SaveResults stores a run's per-change results.
func (s RunStore) SaveResults(id string, r []core.ChangeResult) error {
	return s.db.SaveResults(id, r)
}

// Results returns a run's per-change results.
func (s RunStore) Results(id string) ([]core.ChangeResult, error) { return s.db.Results(id) }

// Journal records a run's requests as they are sent.
func (s RunStore) Journal(id string) core.Journal { return s.db.Journal(id) }

// ResumeState is what a run's journal says was applied and in flight.
func (s RunStore) ResumeState(id string) (map[int]bool, []int, error) {
	return s.db.ResumeState(id)
}

// Sent reports whether a run's journal records any request.
func (s RunStore) Sent(id string) (bool, error) {
	e, err := s.db.JournalEntries(id)
	return len(e) > 0, err
}

// Exclusions are the exclusions remembered in the console.
func (s RunStore) Exclusions() ([]core.Exclusion, error) { return s.db.Exclusions() }

// DeleteRun deletes one run with its snapshots, plan, journal and results.
func (db *DB) DeleteRun(id string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRuns).DeleteBucket([]byte(id))
	})
}
