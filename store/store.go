package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
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
	// keySealed marks a database created with checksums on every value;
	// in it, a value without one is damage, not an old format.
	keySealed = []byte("sealed")
	// keyOpen is set while a writer has the database open and deleted by
	// Close, so finding it on open means the last writer died.
	keyOpen = []byte("open")

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
	bolt     *bolt.DB
	path     string
	readOnly bool
	sealed   bool
	// Unclean is true when the last writer did not close the database
	// (it was killed or crashed); Open then ran bbolt's consistency check.
	Unclean bool

	mu       sync.Mutex
	writeErr error
	live     map[string]bool // runs this handle is applying
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
	} else if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	} else if fi.Size() == 0 {
		// bbolt can only initialise an empty file by writing to it.
		return nil, fmt.Errorf("store: %s is empty: no run has been recorded in it", path)
	}
	// bbolt panics on some damage while it opens, and then keeps the file
	// mapped (and so locked) for the rest of the process. Check what can
	// be checked first, without bbolt.
	if err := preflight(path); err != nil {
		return nil, err
	}
	var (
		b    *bolt.DB
		file *os.File
	)
	bopts := &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly, FreelistType: bolt.FreelistMapType,
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			file = f
			return f, err
		}}
	err := guard(path, func() (err error) {
		b, err = bolt.Open(path, 0o600, bopts)
		return err
	})
	if errors.Is(err, ErrDamaged) && b == nil && file != nil {
		// bbolt panicked inside Open, holding the file; close it. (Its
		// memory map stays, and with it the lock, until the process ends.)
		file.Close()
	}
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, core.Errorf(core.CodeLocked, "store",
				"another usersync is using %s (waited %s); wait for it to finish or pass --db to use another database", path, opts.Timeout)
		}
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		// Failing to open or lock the file is the machine's problem;
		// anything bbolt says about the contents (too small, invalid,
		// checksum, version) means the file is damaged.
		var pe *fs.PathError
		if errors.As(err, &pe) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		return nil, (&DB{path: path}).damaged("%v", err)
	}
	db := &DB{bolt: b, path: path, readOnly: opts.ReadOnly, live: map[string]bool{}}
	err = db.verify()
	if err == nil && opts.ReadOnly {
		err = db.checkSchema()
	} else if err == nil {
		err = db.init()
	}
	if err != nil {
		guard(path, b.Close)
		return nil, err
	}
	return db, nil
}

// verify refuses a file shorter than bbolt's own record of its size (a
// truncated copy: reading past its end would fault), and after an unclean
// shutdown runs bbolt's consistency check.
func (db *DB) verify() error {
	fi, err := os.Stat(db.path)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var size int64
	err = db.view(func(tx *bolt.Tx) error {
		size = tx.Size()
		if meta := tx.Bucket(bucketMeta); meta != nil {
			db.Unclean = meta.Get(keyOpen) != nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if fi.Size() < size {
		return db.damaged("the file is %d bytes but its pages need %d: it was truncated", fi.Size(), size)
	}
	if db.Unclean {
		return db.check()
	}
	return nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close marks the database closed cleanly and releases it and its lock.
// It returns the first write that failed since Open, if any, so that a
// caller checking only Close still learns that a record was lost.
func (db *DB) Close() error {
	var errs []error
	if !db.readOnly {
		errs = append(errs, db.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyOpen) }))
	}
	errs = append(errs, guard(db.path, db.bolt.Close), db.Err())
	// The failed write is reported once even if the marker write failed too.
	if len(errs) > 0 && errs[0] != nil && errors.Is(errs[0], errs[len(errs)-1]) {
		errs[len(errs)-1] = nil
	}
	return errors.Join(errs...)
}

func (db *DB) init() error {
	return db.update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		fresh := meta == nil
		if fresh {
			var err error
			if meta, err = tx.CreateBucket(bucketMeta); err != nil {
				return err
			}
		}
		if v := meta.Get(keySchema); v != nil {
			if err := checkVersion(v, db.path); err != nil {
				return err
			}
		} else if err := meta.Put(keySchema, []byte(fmt.Sprint(SchemaVersion))); err != nil {
			return err
		}
		if fresh {
			if err := meta.Put(keySealed, []byte("crc32c")); err != nil {
				return err
			}
		}
		db.sealed = meta.Get(keySealed) != nil
		if err := meta.Put(keyOpen, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return err
		}
		for _, b := range [][]byte{bucketRuns, bucketExclusions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return db.settleDeadRuns(tx)
	})
}

func (db *DB) checkSchema() error {
	return db.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil || tx.Bucket(bucketRuns) == nil || tx.Bucket(bucketExclusions) == nil {
			return fmt.Errorf("store: %s is not a usersync database", db.path)
		}
		db.sealed = meta.Get(keySealed) != nil
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
