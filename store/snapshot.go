package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/usersync/usersync/core"
	bolt "go.etcd.io/bbolt"
)

var keySnapMeta = []byte("m")

func chunkKey(i int) []byte {
	var b [5]byte
	b[0] = 'c'
	binary.BigEndian.PutUint32(b[1:], uint32(i))
	return b[:]
}

type directoryMeta struct {
	Users         int       `json:"users"`
	MissingGroups []string  `json:"missing_groups,omitempty"`
	FetchedAt     time.Time `json:"fetched_at"`
}

type orgMeta struct {
	Users  int               `json:"users"`
	Groups []core.AdobeGroup `json:"groups,omitempty"`
	Query  core.AdobeQuery   `json:"query"`
}

// chunksPerTx bounds one write transaction (large writes in chunked batches).
const chunksPerTx = 16

// SaveSnapshot stores both sides of a run's snapshot.
func (db *DB) SaveSnapshot(id string, s *core.Snapshot) error {
	chunks, err := encodeDirectory(s.Directory.Users)
	if err != nil {
		return err
	}
	meta := directoryMeta{Users: len(s.Directory.Users), MissingGroups: s.Directory.MissingGroups, FetchedAt: s.FetchedAt}
	if err := db.writeChunks(id, [][]byte{keyDirectory}, meta, chunks); err != nil {
		return err
	}
	orgs := make([]string, 0, len(s.Adobe))
	for org := range s.Adobe {
		orgs = append(orgs, org)
	}
	sort.Strings(orgs)
	for _, org := range orgs {
		o := s.Adobe[org]
		chunks, err := encodeAdobe(o.Users)
		if err != nil {
			return err
		}
		if err := db.writeChunks(id, [][]byte{keyAdobe, []byte(org)}, orgMeta{Users: len(o.Users), Groups: o.Groups, Query: o.Query}, chunks); err != nil {
			return err
		}
	}
	return nil
}

func encodeDirectory(users []core.DirectoryUser) ([][]byte, error) {
	return encodeChunks(users, (*encoder).directoryUser)
}

func encodeAdobe(users []core.AdobeUser) ([][]byte, error) {
	return encodeChunks(users, func(e *encoder, u *core.AdobeUser) error { e.adobeUser(u); return nil })
}

// encodeChunks encodes users chunkSize at a time.
func encodeChunks[T any](users []T, put func(*encoder, *T) error) ([][]byte, error) {
	e := newEncoder()
	var chunks [][]byte
	for start := 0; start < len(users); start += chunkSize {
		end := min(start+chunkSize, len(users))
		e.reset()
		for i := start; i < end; i++ {
			if err := put(e, &users[i]); err != nil {
				return nil, err
			}
		}
		c, err := e.finish(end - start)
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, c)
	}
	return chunks, nil
}

// writeChunks replaces the bucket at path (below the run) with meta and
// chunks, in transactions of at most chunksPerTx chunks.
func (db *DB) writeChunks(id string, path [][]byte, meta any, chunks [][]byte) error {
	bucket := func(tx *bolt.Tx) (*bolt.Bucket, error) {
		b, err := runBucket(tx, id)
		if err != nil {
			return nil, err
		}
		for _, p := range path {
			if b, err = b.CreateBucketIfNotExists(p); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	err := db.update(func(tx *bolt.Tx) error {
		parent, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		for _, p := range path[:len(path)-1] {
			if parent, err = parent.CreateBucketIfNotExists(p); err != nil {
				return err
			}
		}
		last := path[len(path)-1]
		if parent.Bucket(last) != nil {
			if err := parent.DeleteBucket(last); err != nil {
				return err
			}
		}
		b, err := parent.CreateBucket(last)
		if err != nil {
			return err
		}
		return putJSON(b, keySnapMeta, meta)
	})
	if err != nil {
		return err
	}
	for start := 0; start < len(chunks); start += chunksPerTx {
		end := min(start+chunksPerTx, len(chunks))
		err := db.update(func(tx *bolt.Tx) error {
			b, err := bucket(tx)
			if err != nil {
				return err
			}
			b.FillPercent = 1.0 // keys are appended in order
			for i := start; i < end; i++ {
				if err := b.Put(chunkKey(i), seal(chunks[i])); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Snapshot loads a run's snapshot.
func (db *DB) Snapshot(id string) (*core.Snapshot, error) {
	s := &core.Snapshot{Adobe: map[string]core.OrgSnapshot{}}
	err := db.view(func(tx *bolt.Tx) error {
		run, err := runBucket(tx, id)
		if err != nil {
			return err
		}
		d := run.Bucket(keyDirectory)
		if d == nil {
			return core.Errorf(core.CodeNotFound, "store", "run %s has no snapshot", id)
		}
		var dm directoryMeta
		if err := db.getJSON(d.Get(keySnapMeta), "run "+id+" directory snapshot", &dm); err != nil {
			return err
		}
		s.FetchedAt = dm.FetchedAt
		s.Directory.MissingGroups = dm.MissingGroups
		s.Directory.Users = make([]core.DirectoryUser, 0, dm.Users)
		err = db.eachChunk(d, "run "+id+" directory snapshot", func(dec *decoder, n int) error {
			for range n {
				var u core.DirectoryUser
				dec.directoryUser(&u)
				s.Directory.Users = append(s.Directory.Users, u)
			}
			return dec.err
		})
		if err != nil {
			return db.snapshotErr(err, "run %s directory snapshot", id)
		}
		if len(s.Directory.Users) != dm.Users {
			return db.damaged("run %s directory snapshot holds %d users; its record says %d", id, len(s.Directory.Users), dm.Users)
		}
		a := run.Bucket(keyAdobe)
		if a == nil {
			return nil
		}
		return a.ForEachBucket(func(org []byte) error {
			ob := a.Bucket(org)
			if ob == nil {
				return db.damaged("run %s org %s snapshot is not a bucket", id, org)
			}
			var om orgMeta
			if err := db.getJSON(ob.Get(keySnapMeta), fmt.Sprintf("run %s org %s snapshot", id, org), &om); err != nil {
				return err
			}
			o := core.OrgSnapshot{Groups: om.Groups, Query: om.Query, Users: make([]core.AdobeUser, 0, om.Users)}
			err := db.eachChunk(ob, fmt.Sprintf("run %s org %s snapshot", id, org), func(dec *decoder, n int) error {
				for range n {
					var u core.AdobeUser
					dec.adobeUser(&u)
					o.Users = append(o.Users, u)
				}
				return dec.err
			})
			if err != nil {
				return db.snapshotErr(err, "run %s org %s snapshot", id, org)
			}
			if len(o.Users) != om.Users {
				return db.damaged("run %s org %s snapshot holds %d users; its record says %d", id, org, len(o.Users), om.Users)
			}
			s.Adobe[string(org)] = o
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// snapshotErr reports a snapshot that does not decode as damaged (its
// checksum matched, so the damage predates the write or the code changed).
func (db *DB) snapshotErr(err error, format string, args ...any) error {
	if errors.Is(err, ErrDamaged) {
		return err
	}
	return db.damaged("%s: %v", fmt.Sprintf(format, args...), err)
}

func (db *DB) eachChunk(b *bolt.Bucket, what string, f func(*decoder, int) error) error {
	c := b.Cursor()
	for k, v := c.Seek([]byte{'c'}); k != nil && k[0] == 'c'; k, v = c.Next() {
		data, err := db.unseal(v, fmt.Sprintf("%s chunk %x", what, k[1:]))
		if err != nil {
			return err
		}
		dec, n, err := newDecoder(data)
		if err != nil {
			return err
		}
		if err := f(dec, n); err != nil {
			return err
		}
	}
	return nil
}
