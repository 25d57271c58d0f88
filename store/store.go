package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/usersync/usersync/core"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the version of the bucket layout this code writes.
const SchemaVersion = 1

var (
	bucketMeta       = []byte("meta")
	bucketRuns       = []byte("runs")
	bucketExclusions = []byte("exclusions")

	keySchema = []byte("schema_version")

	keyInfo      = []byte("info")
	keyPlan      = []byte("plan")
	keyDirectory = []byte("directory")
	keyAdobe     = []byte("adobe")
	keyJournal   = []byte("journal")
	keyResults   = []byte("results")
)

// Options tune Open.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// file. Zero means one second.
	Timeout time.Duration
	// ReadOnly opens the file shared, for history and show.
	ReadOnly bool
}

// DB is an open usersync database.
type DB struct {
	bolt *bolt.DB
	path string
}

// Open opens (creating if needed) the database at path.
func Open(path string, opts Options) (*DB, error) {
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, core.Errorf(core.CodeLocked, "store",
				"another usersync is using %s (waited %s); wait for it to finish or pass --db to use another database", path, opts.Timeout)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db := &DB{bolt: b, path: path}
	if opts.ReadOnly {
		err = db.checkSchema()
	} else {
		err = db.init()
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return db, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close releases the database and its lock.
func (db *DB) Close() error { return db.bolt.Close() }

func (db *DB) init() error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if v := meta.Get(keySchema); v != nil {
			if err := checkVersion(v, db.path); err != nil {
				return err
			}
		} else if err := meta.Put(keySchema, []byte(fmt.Sprint(SchemaVersion))); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketRuns, bucketExclusions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) checkSchema() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return fmt.Errorf("store: %s is not a usersync database", db.path)
		}
		return checkVersion(meta.Get(keySchema), db.path)
	})
}

func checkVersion(v []byte, path string) error {
	var n int
	if _, err := fmt.Sscan(string(v), &n); err != nil {
		return fmt.Errorf("store: %s has an unreadable schema version %q", path, v)
	}
	if n > SchemaVersion {
		return fmt.Errorf("store: %s was written by a newer usersync (schema %d, this one knows %d); upgrade usersync or use another --db", path, n, SchemaVersion)
	}
	return nil
}
