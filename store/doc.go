// Package store keeps usersync's state in one bbolt file: per run, the
// snapshots of both sides, the plan bound to their digests, the apply
// journal and the results; the run history; and remembered exclusions.
//
// Bucket tree:
//
//	meta                 schema_version → "1"
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
// One process at a time: bbolt holds an exclusive file lock while the
// database is open, and Open fails after Options.Timeout with an error that
// says another usersync is using the file.
package store
