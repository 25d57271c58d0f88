package store

import (
	"fmt"
	"time"

	"github.com/usersync/usersync/core"
	bolt "go.etcd.io/bbolt"
)

// Journal entry states.
const (
	JournalSending = "sending" // written before the request went out
	JournalSent    = "sent"    // the reply (or final error) is recorded
)

// JournalEntry is one action request of an apply.
type JournalEntry struct {
	Seq       int                 `json:"seq"`
	Org       string              `json:"org"`
	State     string              `json:"state"`
	ChangeIDs []int               `json:"change_ids"`
	Commands  []core.Command      `json:"commands"`
	TestOnly  bool                `json:"test_only,omitempty"`
	SentAt    time.Time           `json:"sent_at"`
	RepliedAt time.Time           `json:"replied_at,omitempty"`
	Results   []core.ChangeResult `json:"results,omitempty"`
}

// Journal returns the core.Journal of a run. Each call commits (and syncs)
// before returning, so that after a crash the file says exactly which
// requests were about to be sent and which were answered.
func (db *DB) Journal(id string) core.Journal { return &journal{db: db, id: id} }

type journal struct {
	db *DB
	id string
}

func (j *journal) Sending(seq int, org string, req core.ActionRequest, changeIDs []int) error {
	e := JournalEntry{Seq: seq, Org: org, State: JournalSending, ChangeIDs: changeIDs,
		Commands: req.Commands, TestOnly: req.TestOnly, SentAt: time.Now().UTC()}
	return j.db.update(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, j.id)
		if err != nil {
			return err
		}
		return putJSON(b.Bucket(keyJournal), u64(uint64(seq)), e)
	})
}

func (j *journal) Sent(seq int, results []core.ChangeResult) error {
	return j.db.update(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, j.id)
		if err != nil {
			return err
		}
		jb := b.Bucket(keyJournal)
		var e JournalEntry
		if v := jb.Get(u64(uint64(seq))); v != nil {
			if err := j.db.getJSON(v, fmt.Sprintf("run %s journal entry %d", j.id, seq), &e); err != nil {
				return err
			}
		} else {
			e.Seq = seq
		}
		e.State, e.RepliedAt, e.Results = JournalSent, time.Now().UTC(), results
		if err := putJSON(jb, u64(uint64(seq)), e); err != nil {
			return err
		}
		rb := b.Bucket(keyResults)
		for _, r := range results {
			if err := putJSON(rb, u64(uint64(r.ChangeID)), r); err != nil {
				return err
			}
		}
		return nil
	})
}

// JournalEntries returns a run's journal in order.
func (db *DB) JournalEntries(id string) ([]JournalEntry, error) {
	var out []JournalEntry
	err := db.view(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		jb := b.Bucket(keyJournal)
		if jb == nil {
			return db.damaged("run %s has no journal bucket", id)
		}
		return jb.ForEach(func(k, v []byte) error {
			var e JournalEntry
			if err := db.getJSON(v, fmt.Sprintf("run %s journal entry %x", id, k), &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// ResumeState reads a run's journal: done holds the changes that succeeded,
// inFlight the changes of requests that were sent but never answered (the
// process died). A change whose steps were spread over several requests is
// done only when every one of them answered success. Failed changes are in
// neither: resuming sends them again, as it does inFlight ones, which is
// safe because every command usersync sends is idempotent (creates carry
// ignoreIfAlreadyExists or updateIfAlreadyExists; group adds and removes
// and removals from the org converge).
func (db *DB) ResumeState(id string) (done map[int]bool, inFlight []int, err error) {
	entries, err := db.JournalEntries(id)
	if err != nil {
		return nil, nil, err
	}
	succeeded := map[int]bool{}
	notDone := map[int]bool{}
	for _, e := range entries {
		if e.State != JournalSent {
			inFlight = append(inFlight, e.ChangeIDs...)
			for _, c := range e.ChangeIDs {
				notDone[c] = true
			}
			continue
		}
		for _, r := range e.Results {
			if r.Outcome == core.OutcomeSucceeded {
				succeeded[r.ChangeID] = true
			} else {
				notDone[r.ChangeID] = true
			}
		}
	}
	done = map[int]bool{}
	for c := range succeeded {
		if !notDone[c] {
			done[c] = true
		}
	}
	return done, inFlight, nil
}
