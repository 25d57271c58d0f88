// Package store keeps usersync's state in one bbolt file: per run, the
// snapshots of both sides, the plan bound to their digests, the apply
// journal and the results; the run history; and remembered exclusions.
//
// Bucket tree:
//
//	meta                 schema_version → "1"; sealed → "crc32c" (values carry checksums);
//	                     open → time, while a writer has the file open
//	runs
//	  <run-id>           sortable: 20261122T112600.123Z-1a2b
//	    info             JSON RunInfo
//	    plan             deflate(JSON core.Plan)
//	    directory        "m" → JSON meta; "c"+uint32 → deflate(binary users), 4096 a chunk
//	    adobe
//	      <org>          same layout as directory
//	    journal          uint64 seq → JSON JournalEntry (written before a request and after its reply)
//	    results          uint64 change id → JSON core.ChangeResult
//	exclusions           org \x00 key \x00 action → JSON core.Exclusion
//	pending              user key → JSON core.PendingUser (grace period; see pending.go)
//
// Every value usersync writes is sealed (see seal in integrity.go): a
// marker, a CRC-32C and the payload, so a damaged snapshot, plan or journal
// entry is refused instead of driving a change. Open checks bbolt's header
// and the file's length before mapping it, recovers bbolt's panics into
// ErrDamaged (a one-line error saying to move the file aside), and runs
// bbolt's consistency check when the open marker says the last writer died.
// A run still "applying" whose process is gone reads as interrupted, with
// the counts of its journal and results.
//
// One process at a time: bbolt holds an exclusive file lock while the
// database is open, and Open fails after Options.Timeout with an error that
// says another usersync is using the file.
package store
