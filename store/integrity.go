package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"os"
	"runtime/debug"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged is wrapped by every error about a database file that cannot
// be read: bbolt found a broken page, its consistency check failed, or a
// value usersync wrote no longer matches its checksum.
var ErrDamaged = errors.New("database damaged")

// damagedError says what is wrong and what to do, in one line.
type damagedError struct {
	path   string
	detail string
}

func (e *damagedError) Error() string {
	return fmt.Sprintf("store: %s is damaged (%s): move it aside (mv %s %s.damaged) and run again; the run history it held is lost, the Adobe org is not",
		e.path, e.detail, e.path, e.path)
}

func (e *damagedError) Unwrap() error { return ErrDamaged }

func (db *DB) damaged(format string, args ...any) error {
	return &damagedError{path: db.path, detail: oneLine(fmt.Sprintf(format, args...))}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// guard runs f, turning a panic inside bbolt (a broken page, an assertion,
// a fault reading a truncated memory map) into a damaged-database error.
// bbolt rolls its transaction back before the panic reaches us.
func guard(path string, f func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = &damagedError{path: path, detail: oneLine(fmt.Sprint(r))}
		}
	}()
	return f()
}

// view runs a read transaction under guard.
func (db *DB) view(f func(*bolt.Tx) error) error {
	return guard(db.path, func() error { return db.bolt.View(f) })
}

// update runs a write transaction under guard and remembers the first
// failure, which Err and Close report again: a run whose record could not
// be written can never end as if it had been.
func (db *DB) update(f func(*bolt.Tx) error) error {
	err := guard(db.path, func() error { return db.bolt.Update(f) })
	if err != nil {
		db.mu.Lock()
		if db.writeErr == nil {
			db.writeErr = err
		}
		db.mu.Unlock()
	}
	return err
}

// Err returns the first write that failed since Open, or nil.
func (db *DB) Err() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.writeErr
}

// check runs bbolt's consistency check over the whole file.
func (db *DB) check() error {
	var errs []string
	err := db.view(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			errs = append(errs, e.Error())
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return db.damaged("consistency check after an unclean shutdown: %s (%d problems)", errs[0], len(errs))
	}
	return nil
}

// Every value usersync writes is sealed: a marker byte that starts neither
// JSON nor a deflate stream (0xff is a reserved deflate block type), a
// version byte, a CRC-32C of the payload, then the payload. A value whose
// checksum does not match is refused, so a damaged snapshot, plan or
// journal entry can never drive a change, least of all a removal.
const (
	sealMarker  = 0xff
	sealVersion = 1
	sealHeader  = 6
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func seal(payload []byte) []byte {
	out := make([]byte, sealHeader+len(payload))
	out[0], out[1] = sealMarker, sealVersion
	binary.BigEndian.PutUint32(out[2:], crc32.Checksum(payload, castagnoli))
	copy(out[sealHeader:], payload)
	return out
}

// unseal verifies v and returns its payload. what names the value in the
// error. Values written before checksums existed (no marker) are accepted
// only in a database created before then.
func (db *DB) unseal(v []byte, what string) ([]byte, error) {
	if v == nil {
		return nil, db.damaged("%s is missing", what)
	}
	if len(v) == 0 || v[0] != sealMarker {
		if db.sealed {
			return nil, db.damaged("%s has no checksum", what)
		}
		return v, nil
	}
	if len(v) < sealHeader || v[1] != sealVersion {
		return nil, db.damaged("%s has an unreadable header", what)
	}
	payload := v[sealHeader:]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(v[2:]) {
		return nil, db.damaged("%s does not match its checksum", what)
	}
	return payload, nil
}

// bbolt's file layout, as far as preflight reads it: two meta pages at the
// start, each a 16-byte page header then the meta record (little-endian on
// the platforms usersync ships for).
const (
	boltMagic      = 0xED0CDAED
	boltPageHeader = 16
	boltMetaLen    = 64 // magic … checksum
	boltFreelist   = 0x10
	boltNoFreelist = ^uint64(0)
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages in use
	txid     uint64
}

// readBoltMeta decodes and verifies one meta page (checksum: FNV-1a 64 of
// the record before the checksum field).
func readBoltMeta(page []byte) (boltMeta, bool) {
	if len(page) < boltPageHeader+boltMetaLen {
		return boltMeta{}, false
	}
	m := page[boltPageHeader : boltPageHeader+boltMetaLen]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]),
		pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// preflight checks an existing database file before bbolt maps it: a
// valid meta page, a file as long as the pages the meta page says are in
// use (a truncated copy is the commonest damage), and a freelist page that
// is one. An empty or missing file is left to Open.
func preflight(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // Open reports it, or creates the file
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil
	}
	damaged := func(format string, args ...any) error {
		return &damagedError{path: path, detail: fmt.Sprintf(format, args...)}
	}
	head := make([]byte, boltPageHeader+boltMetaLen)
	if _, err := f.ReadAt(head, 0); err != nil {
		return damaged("too short to hold a database header (%d bytes)", fi.Size())
	}
	m0, ok0 := readBoltMeta(head)
	ps := int64(m0.pageSize)
	if !ok0 || ps < 512 || ps > 1<<16 {
		ps = 4096
	}
	m1, ok1 := boltMeta{}, false
	if _, err := f.ReadAt(head, ps); err == nil {
		m1, ok1 = readBoltMeta(head)
	}
	m := m0
	switch {
	case ok0 && ok1 && m1.txid > m0.txid, !ok0 && ok1:
		m = m1
	case !ok0 && !ok1:
		return damaged("neither of its two header pages is valid")
	}
	ps = int64(m.pageSize)
	if ps < 512 || ps > 1<<16 || ps&(ps-1) != 0 {
		return damaged("its header gives an impossible page size %d", ps)
	}
	if need := int64(m.pgid) * ps; fi.Size() < need {
		return damaged("the file is %d bytes but its pages need %d: it was truncated", fi.Size(), need)
	}
	if m.root >= m.pgid || (m.freelist != boltNoFreelist && m.freelist >= m.pgid) {
		return damaged("its header points past the end of its pages")
	}
	if m.freelist != boltNoFreelist {
		if _, err := f.ReadAt(head[:boltPageHeader], int64(m.freelist)*ps); err != nil {
			return damaged("its freelist page cannot be read: %v", err)
		}
		if flags := binary.LittleEndian.Uint16(head[8:]); flags&boltFreelist == 0 {
			return damaged("invalid freelist page %d (flags %#x)", m.freelist, flags)
		}
	}
	return nil
}
