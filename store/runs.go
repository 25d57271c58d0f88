package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/usersync/usersync/core"
	bolt "go.etcd.io/bbolt"
)

// Run statuses.
const (
	StatusPlanned     = "planned"
	StatusApplying    = "applying"
	StatusApplied     = "applied"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
	StatusWithheld    = "withheld" // applied, Adobe-only actions withheld by the limit
)

// RunInfo describes one run in the history.
type RunInfo struct {
	ID       string    `json:"id"`
	Command  string    `json:"command"` // sync, plan, apply, console
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	Status   string    `json:"status"`
	ExitCode int       `json:"exit_code"`
	TestMode bool      `json:"test_mode,omitempty"`
	// Options are the run's resolved options as text (never secrets).
	Options   map[string]string `json:"options,omitempty"`
	Counters  core.Counters     `json:"counters"`
	Changes   int               `json:"changes"`
	Withheld  int               `json:"withheld,omitempty"`
	Succeeded int               `json:"succeeded"`
	Failed    int               `json:"failed"`
	Requests  int               `json:"requests"`
	// Excluded lists the change IDs the operator excluded for this run.
	Excluded []int  `json:"excluded,omitempty"`
	Error    string `json:"error,omitempty"`
	// ResumedFrom names the run whose plan this run applied or resumed.
	ResumedFrom string `json:"resumed_from,omitempty"`
}

// NewRunID returns a unique run id that sorts by time to the millisecond,
// e.g. 20261122T112600.123Z-1a2b.
func NewRunID(t time.Time) string {
	var b [2]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b[:])
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func runBucket(tx *bolt.Tx, id string) (*bolt.Bucket, error) {
	b := tx.Bucket(bucketRuns).Bucket([]byte(id))
	if b == nil {
		return nil, core.Errorf(core.CodeNotFound, "store", "no run %q in this database (see usersync history)", id)
	}
	return b, nil
}

// CreateRun records a new run and returns it with its ID set.
func (db *DB) CreateRun(info RunInfo) (RunInfo, error) {
	if info.ID == "" {
		info.ID = NewRunID(time.Now())
	}
	if info.Started.IsZero() {
		info.Started = time.Now().UTC()
	}
	err := db.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketRuns).CreateBucket([]byte(info.ID))
		if err != nil {
			return fmt.Errorf("store: run %s: %w", info.ID, err)
		}
		for _, k := range [][]byte{keyJournal, keyResults} {
			if _, err := b.CreateBucket(k); err != nil {
				return err
			}
		}
		return putJSON(b, keyInfo, info)
	})
	if err == nil {
		db.track(info)
	}
	return info, err
}

// track remembers whether this handle is applying the run, so that reads
// tell a live apply from one whose process died.
func (db *DB) track(info RunInfo) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if info.Status == StatusApplying {
		db.live[info.ID] = true
	} else {
		delete(db.live, info.ID)
	}
}

// ExitKilled is the exit code recorded for a run whose process died
// without recording one (killed, crashed, or the machine stopped).
const ExitKilled = -1

// settle turns the record of an apply whose process died into what
// happened: status interrupted, and the counts its journal and results
// hold (the record itself still says what was true when the apply began).
// Only this handle's own applies can be live: bbolt's file lock keeps
// every other writer out while the database is open.
func (db *DB) settle(b *bolt.Bucket, info *RunInfo) error {
	db.mu.Lock()
	live := db.live[info.ID]
	db.mu.Unlock()
	if info.Status != StatusApplying || live {
		return nil
	}
	info.Status, info.ExitCode = StatusInterrupted, ExitKilled
	info.Succeeded, info.Failed, info.Requests = 0, 0, 0
	if rb := b.Bucket(keyResults); rb != nil {
		err := rb.ForEach(func(_, v []byte) error {
			var r core.ChangeResult
			if err := db.getJSON(v, "run "+info.ID+" result", &r); err != nil {
				return err
			}
			switch r.Outcome {
			case core.OutcomeSucceeded:
				info.Succeeded++
			case core.OutcomeFailed:
				info.Failed++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	var last time.Time
	if jb := b.Bucket(keyJournal); jb != nil {
		err := jb.ForEach(func(k, v []byte) error {
			var e JournalEntry
			if err := db.getJSON(v, fmt.Sprintf("run %s journal entry %x", info.ID, k), &e); err != nil {
				return err
			}
			info.Requests++
			for _, t := range []time.Time{e.SentAt, e.RepliedAt} {
				if t.After(last) {
					last = t
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if info.Finished.IsZero() {
		info.Finished = last // the last sign of life, if any
	}
	if info.Error == "" {
		info.Error = fmt.Sprintf("the process ended while applying (killed or crashed) after %d requests; %d changes succeeded, %d failed; 'usersync apply --resume %s' finishes the run",
			info.Requests, info.Succeeded, info.Failed, info.ID)
	}
	return nil
}

// settleDeadRuns rewrites, inside a writer's open, the records of applies
// whose process died, so every later reader sees them interrupted.
func (db *DB) settleDeadRuns(tx *bolt.Tx) error {
	runs := tx.Bucket(bucketRuns)
	var dead [][]byte
	err := runs.ForEachBucket(func(k []byte) error {
		var info RunInfo
		if err := db.getJSON(runs.Bucket(k).Get(keyInfo), "run "+string(k)+" record", &info); err != nil {
			return err
		}
		if info.Status == StatusApplying {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		b := runs.Bucket(k)
		var info RunInfo
		if err := db.getJSON(b.Get(keyInfo), "run "+string(k)+" record", &info); err != nil {
			return err
		}
		if err := db.settle(b, &info); err != nil {
			return err
		}
		if err := putJSON(b, keyInfo, info); err != nil {
			return err
		}
	}
	return nil
}

// UpdateRun rewrites a run's info.
func (db *DB) UpdateRun(info RunInfo) error {
	err := db.update(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, info.ID)
		if err != nil {
			return err
		}
		return putJSON(b, keyInfo, info)
	})
	if err == nil {
		db.track(info)
	}
	return err
}

// Run returns one run's info.
func (db *DB) Run(id string) (RunInfo, error) {
	var info RunInfo
	err := db.view(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		if err := db.getJSON(b.Get(keyInfo), "run "+id+" record", &info); err != nil {
			return err
		}
		return db.settle(b, &info)
	})
	return info, err
}

// Runs lists runs, newest first; limit 0 means all.
func (db *DB) Runs(limit int) ([]RunInfo, error) {
	var out []RunInfo
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRuns).Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if limit > 0 && len(out) >= limit {
				break
			}
			var info RunInfo
			b := tx.Bucket(bucketRuns).Bucket(k)
			if b == nil {
				return db.damaged("run %s is not a bucket", k)
			}
			if err := db.getJSON(b.Get(keyInfo), "run "+string(k)+" record", &info); err != nil {
				return err
			}
			if err := db.settle(b, &info); err != nil {
				return err
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// LatestRun returns the newest run whose status is one of statuses (any
// when none are given).
func (db *DB) LatestRun(statuses ...string) (RunInfo, bool, error) {
	runs, err := db.Runs(0)
	if err != nil {
		return RunInfo{}, false, err
	}
	for _, r := range runs {
		if len(statuses) == 0 {
			return r, true, nil
		}
		for _, s := range statuses {
			if r.Status == s {
				return r, true, nil
			}
		}
	}
	return RunInfo{}, false, nil
}

// Prune deletes the oldest runs so that at most keep remain (keep ≤ 0
// keeps everything). It returns how many were deleted.
func (db *DB) Prune(keep int) (int, error) {
	if keep <= 0 {
		return 0, nil
	}
	n := 0
	err := db.update(func(tx *bolt.Tx) error {
		runs := tx.Bucket(bucketRuns)
		var ids [][]byte
		err := runs.ForEachBucket(func(k []byte) error {
			ids = append(ids, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		sort.Slice(ids, func(i, j int) bool { return string(ids[i]) < string(ids[j]) })
		for len(ids) > keep {
			if err := runs.DeleteBucket(ids[0]); err != nil {
				return err
			}
			ids = ids[1:]
			n++
		}
		return nil
	})
	return n, err
}

// SavePlan stores the plan of a run.
func (db *DB) SavePlan(id string, p *core.Plan) error {
	data, err := deflatePlan(p)
	if err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		return b.Put(keyPlan, seal(data))
	})
}

// Plan loads the plan of a run.
func (db *DB) Plan(id string) (*core.Plan, error) {
	var p core.Plan
	err := db.view(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		v := b.Get(keyPlan)
		if v == nil {
			return core.Errorf(core.CodeNotFound, "store", "run %s has no plan", id)
		}
		data, err := db.unseal(v, "run "+id+" plan")
		if err != nil {
			return err
		}
		if err := inflateJSON(data, &p); err != nil {
			return db.damaged("run %s plan: %v", id, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// SaveResults stores per-change results (added to any already stored).
func (db *DB) SaveResults(id string, results []core.ChangeResult) error {
	return db.update(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, id)
		if err != nil {
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

// Results returns a run's per-change results in change order.
func (db *DB) Results(id string) ([]core.ChangeResult, error) {
	var out []core.ChangeResult
	err := db.view(func(tx *bolt.Tx) error {
		b, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		rb := b.Bucket(keyResults)
		if rb == nil {
			return db.damaged("run %s has no results bucket", id)
		}
		return rb.ForEach(func(k, v []byte) error {
			var r core.ChangeResult
			if err := db.getJSON(v, "run "+id+" result", &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// putJSON stores v as sealed JSON.
func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, seal(data))
}

// getJSON verifies and decodes a value stored by putJSON; what names it
// in the error.
func (db *DB) getJSON(v []byte, what string, dst any) error {
	data, err := db.unseal(v, what)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return db.damaged("%s: %v", what, err)
	}
	return nil
}

// Exclusions lists remembered exclusions.
func (db *DB) Exclusions() ([]core.Exclusion, error) {
	var out []core.Exclusion
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketExclusions).ForEach(func(_, v []byte) error {
			var e core.Exclusion
			if err := db.getJSON(v, "a remembered exclusion", &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

func exclusionKey(e core.Exclusion) []byte {
	return []byte(e.Org + "\x00" + e.Key + "\x00" + string(e.Action))
}

// RememberExclusion stores an exclusion that later runs apply too.
func (db *DB) RememberExclusion(e core.Exclusion) error {
	return db.update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketExclusions), exclusionKey(e), e)
	})
}

// ForgetExclusion removes a remembered exclusion.
func (db *DB) ForgetExclusion(e core.Exclusion) error {
	return db.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketExclusions).Delete(exclusionKey(e))
	})
}
