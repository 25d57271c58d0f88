package core

import (
	"context"
	"time"
)

// SourceQuery says what the engine asks of a directory (UST §3.4.1).
type SourceQuery struct {
	// Groups are the directory groups to read: the mapped directory groups
	// when groups are processed, plus the --users group filter.
	Groups []string
	// AllUsers asks for every user, with memberships of Groups attached.
	// Without it only members of Groups are returned.
	AllUsers bool
	// ExtendedAttributes are extra attributes the extension wants read.
	ExtendedAttributes []string
	// WantMemberGroups is set when additional-group rules exist, so that
	// sources read the attribute that feeds DirectoryUser.MemberGroups.
	WantMemberGroups bool
	// NoAttributes says nothing will read DirectoryUser.Attributes (there
	// is no extension hook), so a source may leave them out: for a
	// million-user file they are most of the read's memory.
	NoAttributes bool
}

// DirectoryResult is what a Source returns.
type DirectoryResult struct {
	Users []DirectoryUser `json:"users"`
	// MissingGroups lists requested groups the directory does not have
	// (the usual cause of "why is this user not synced").
	MissingGroups []string `json:"missing_groups,omitempty"`
	// Unselected are users the source read but did not return in Users
	// because they are in none of the requested groups (a CSV file is
	// read whole; LDAP and Okta read only what was asked and leave this
	// empty). Explain and Diagnose use them; the planner never syncs them.
	Unselected []DirectoryUser `json:"unselected,omitempty"`
	// Notes are records the source skipped or merged, with where they are.
	Notes []SourceNote `json:"notes,omitempty"`
}

// The kinds of SourceNote.
const (
	NoteSkipped  = "skipped"  // the record was not returned
	NoteConflict = "conflict" // records of one user disagree; one was chosen
)

// SourceNote is a record a source skipped, or several it merged with
// conflicting values, so that the diagnosis can name it with its file and
// line.
type SourceNote struct {
	Kind   string `json:"kind"`
	Origin string `json:"origin"` // "users.csv:7"
	User   string `json:"user,omitempty"`
	Reason string `json:"reason"`
	// Logged is set when the source has already written it to the log, so
	// that log renderers do not print it twice.
	Logged bool `json:"logged,omitempty"`
}

// UserLookup is implemented by sources that can find one user by email or
// username whether or not it would be selected, for explain: with --users
// mapped, LDAP and Okta do not read unmapped users at all. Lookup returns
// nil and no error when the source has no such user; where says what was
// searched (file, base and filter), for a "not found" that can be trusted.
type UserLookup interface {
	LookupUser(ctx context.Context, query string, q SourceQuery) (u *DirectoryUser, where string, err error)
}

// Source is an identity directory: LDAP, CSV, Okta, another Adobe org.
// A failed, truncated or interrupted read returns an error, never a short
// list: a short list would look like users to remove.
type Source interface {
	Users(ctx context.Context, q SourceQuery, r Reporter) (DirectoryResult, error)
}

// AdobeQuery says which users of an org to read.
type AdobeQuery struct {
	// All reads every user of the org; otherwise the direct members of
	// Groups are read (one query per group).
	All    bool
	Groups []string
}

// Target is one Adobe org reached through UMAPI.
type Target interface {
	// Users reads users. It fails closed: any failed or inconsistent page is
	// an error, never a partial list.
	Users(ctx context.Context, q AdobeQuery, r Reporter) ([]AdobeUser, error)
	// Groups lists every group and product profile of the org.
	Groups(ctx context.Context, r Reporter) ([]AdobeGroup, error)
	// Send posts one action request (at most MaxCommandsPerRequest commands)
	// and returns the server's per-command outcome. Retries of throttled and
	// transient failures happen inside Send; each wait is reported through r.
	Send(ctx context.Context, req ActionRequest, r Reporter) (ActionResponse, error)
}

// Hook is the extension's after_mapping_hook (UST §5), run once for each
// selected directory user. Implementations keep hook_storage between calls.
type Hook interface {
	Run(ctx context.Context, h *HookContext) error
}

// HookContext carries the hook's variables. Run may change
// TargetAttributes and TargetGroups; the engine reads them back.
type HookContext struct {
	SourceAttributes map[string]any // values: nil, string, []string
	SourceGroups     []string
	// TargetAttributes holds email, username, domain, firstname, lastname,
	// country; a value is a string or nil (None).
	TargetAttributes map[string]any
	// TargetGroups are qualified Adobe group names ("org::Group" for
	// secondary orgs), as configured.
	TargetGroups []string
}

// Journal records, as the executor goes, what it is about to send and what
// came back, so that an interrupted apply can be resumed exactly.
type Journal interface {
	// Sending is called before a request is sent; seq numbers requests of
	// the run from 0.
	Sending(seq int, org string, req ActionRequest, changeIDs []int) error
	// Sent is called with the reply (or the final error) of request seq.
	Sent(seq int, results []ChangeResult) error
}

// Clock lets tests drive time (throttle waits, backoff) without sleeping.
type Clock interface {
	Now() time.Time
	// After waits like time.After.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
