package store

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/usersync/usersync/core"
)

// bucketPending holds the grace-period entries: user key → JSON
// core.PendingUser. It is created by the first SavePending, so databases
// written before it existed need no migration.
var bucketPending = []byte("pending")

var _ core.PendingStore = (*DB)(nil)

// Pending returns the Adobe-only users in their grace period, by user key.
func (db *DB) Pending() (map[string]core.PendingUser, error) {
	out := map[string]core.PendingUser{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p core.PendingUser
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("pending entry %q: %w", k, err)
			}
			out[string(k)] = p
			return nil
		})
	})
	return out, err
}

// PendingList returns the entries sorted by due date, then user key.
func (db *DB) PendingList() ([]core.PendingUser, error) {
	m, err := db.Pending()
	if err != nil {
		return nil, err
	}
	out := make([]core.PendingUser, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Due.Equal(out[j].Due) {
			return out[i].Due.Before(out[j].Due)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// SavePending replaces every grace-period entry with ps (the Plan.Pending
// of a run that was applied), in sorted key order.
func (db *DB) SavePending(ps []core.PendingUser) error {
	sorted := append([]core.PendingUser(nil), ps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPending) != nil {
			if err := tx.DeleteBucket(bucketPending); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucket(bucketPending)
		if err != nil {
			return err
		}
		for _, p := range sorted {
			v, err := json.Marshal(p)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(p.Key), v); err != nil {
				return err
			}
		}
		return nil
	})
}
