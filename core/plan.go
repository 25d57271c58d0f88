package core

import "time"

// Action is what a Change does to an Adobe user or group.
type Action string

// The plan actions.
const (
	// ActionCreateGroup creates a missing mapped user group (auto_create).
	ActionCreateGroup Action = "create_group"
	// ActionCreate adds a directory user that has no Adobe account.
	ActionCreate Action = "create"
	// ActionUpdate changes attributes of a matched user.
	ActionUpdate Action = "update"
	// ActionRemoveGroups removes a matched or Adobe-only user from mapped groups.
	ActionRemoveGroups Action = "remove_groups"
	// ActionAddGroups adds a user to groups.
	ActionAddGroups Action = "add_groups"
	// ActionRemoveAllGroups removes an Adobe-only user from every group
	// (remove-adobe-groups).
	ActionRemoveAllGroups Action = "remove_all_groups"
	// ActionRemoveFromOrg removes an Adobe-only user from the org (remove).
	ActionRemoveFromOrg Action = "remove_from_org"
	// ActionDelete removes an Adobe-only user and deletes the account.
	ActionDelete Action = "delete"
)

// AttrChange is one attribute's value before and after a change. For a
// create, Before is empty.
type AttrChange struct {
	Name   string `json:"name"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Target addresses the Adobe user (or group) a change applies to, exactly as
// the UMAPI command root will carry it.
type UserRef struct {
	User       string       `json:"user"`
	Domain     string       `json:"domain,omitempty"`
	UseAdobeID bool         `json:"useAdobeID,omitempty"`
	Type       IdentityType `json:"type,omitempty"`
	// Email is the account's email, used when the change is sent as part of
	// a usergroup command (whose user lists take emails).
	Email string `json:"email,omitempty"`
}

// Change is one planned change. Changes of the same org and user are sent
// together in one command, in the order create, update, remove, add,
// remove-from-org.
type Change struct {
	// ID is the change's index in Plan.Changes (stable for a plan).
	ID     int    `json:"id"`
	Org    string `json:"org"` // PrimaryOrg or a secondary's name
	Action Action `json:"action"`
	// Key is the user key (UST §3.3) or, for ActionCreateGroup, the group.
	Key  string  `json:"key"`
	User UserRef `json:"user"`
	// Group is the group name for ActionCreateGroup.
	Group  string       `json:"group,omitempty"`
	Groups []string     `json:"groups,omitempty"` // normalised names
	Attrs  []AttrChange `json:"attrs,omitempty"`
	// Option is the create option (ignoreIfAlreadyExists, updateIfAlreadyExists).
	Option string `json:"option,omitempty"`
	// AdobeOnly marks changes to Adobe-only users (subject to the limit).
	AdobeOnly bool `json:"adobe_only,omitempty"`
	// Rule says, in plain words, which rule produced the change.
	Rule string `json:"rule"`
	// Reasons lists the mapping rules and hook effects behind the change,
	// e.g. `directory group "Marketing" → "All Apps"`.
	Reasons []string `json:"reasons,omitempty"`
	// Held names the safety limit that withheld the change (only on
	// Plan.Withheld).
	Held Hold `json:"held,omitempty"`
	// Blocked, when set, says why the change cannot succeed (an add to a
	// group the org does not have and the run does not create): the
	// executor records it as failed with this reason and never sends it,
	// so that the org's refusal cannot take the user's other changes down.
	Blocked string `json:"blocked,omitempty"`
}

// LimitReport says whether the max_adobe_only_users limit held.
type LimitReport struct {
	Setting  string `json:"setting"` // as configured, e.g. "200" or "10%"
	Count    int    `json:"count"`   // primary Adobe-only users
	Max      int    `json:"max"`     // the limit in users
	Exceeded bool   `json:"exceeded"`
}

// Counters are UST's run counters (UST §3.16).
type Counters struct {
	DirectoryUsersRead     int `json:"directory_users_read"`
	DirectoryUsersSelected int `json:"directory_users_selected"`
	AdobeUsersRead         int `json:"primary_users_read"`
	Excluded               int `json:"excluded_user_count"`
	Unchanged              int `json:"unchanged_user_count"`
	Created                int `json:"primary_users_created"`
	Updated                int `json:"updated_user_count"`
	GroupsCreated          int `json:"adobe_user_groups_created"`
	SecondaryCreated       int `json:"secondary_users_created"`
	StraysProcessed        int `json:"primary_strays_processed"`
	// StraysTracked is true when Adobe-only users were tracked, so that the
	// summary prints the "Adobe-only users ..." line.
	StraysTracked bool `json:"strays_tracked"`
}

// Stray is an Adobe-only user, as written by write-file (UST §4.3).
type Stray struct {
	Org    string       `json:"org"`
	Type   IdentityType `json:"type"`
	Email  string       `json:"email"`
	Domain string       `json:"domain,omitempty"`
	User   UserRef      `json:"user"`
	// GroupsToRemove are its mapped groups (only with process-groups).
	GroupsToRemove []string `json:"groups_to_remove,omitempty"`
}

// Plan is the list of changes a run will make. It is data: the console, the
// text log and --json render it and never recompute it.
type Plan struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Strategy  Strategy  `json:"strategy"`
	TestMode  bool      `json:"test_mode"`
	// Orgs is the execution order: secondary orgs first, primary last.
	Orgs    []string `json:"orgs"`
	Changes []Change `json:"changes"`
	// Withheld are the Adobe-only changes a safety limit held back.
	Withheld []Change     `json:"withheld,omitempty"`
	Limit    *LimitReport `json:"limit,omitempty"`
	// GroupHolds are the groups whose removals max_group_removals withheld.
	GroupHolds []GroupHold `json:"group_holds,omitempty"`
	// Seats are the product profiles the plan adds users to or removes
	// users from, with their members and licence quota.
	Seats []SeatRow `json:"seats,omitempty"`
	// Pending are the Adobe-only users in their grace period
	// (limits.adobe_only_grace_period), due ones included.
	Pending  []PendingUser `json:"pending,omitempty"`
	Counters Counters      `json:"counters"`
	// AdobeOnlyAction is the action taken on Adobe-only users (for labels).
	AdobeOnlyAction AdobeOnlyKind `json:"adobe_only_action,omitempty"`
	Strays          []Stray       `json:"strays,omitempty"`
	Warnings        []string      `json:"warnings,omitempty"`
	// Notes are UST's log lines about the planner's decisions, in the
	// order it made them (see LogNotes). They are rendered once, when the
	// plan is made, and not stored with it: a stored plan keeps its
	// changes and warnings (storing a line per change added about 4% to
	// what a 100,000-user plan allocates).
	Notes []Note `json:"-"`
	// Findings are the diagnosis of the snapshot and options the plan was
	// made from (see Diagnose): every front end renders them.
	Findings []Finding `json:"findings,omitempty"`
	// DirectoryDigest and AdobeDigest bind the plan to the snapshots it was
	// made from, so a stale plan can be refused.
	DirectoryDigest string `json:"directory_digest,omitempty"`
	AdobeDigest     string `json:"adobe_digest,omitempty"`
	// UserGroups lists, per org, the normalised names of the org's writable
	// user groups (type USER_GROUP, not read-only). The executor may address
	// only these as the root of a usergroup command; product profiles and
	// admin groups are always changed through user commands. Groups the plan
	// creates count as user groups without being listed.
	UserGroups map[string][]string `json:"user_groups,omitempty"`
	// Inputs are the resolved queries and options the plan was made with,
	// so that applying it later reads both sides the same way.
	Inputs *PlanInputs `json:"inputs,omitempty"`
}

// PlanInputs are what a plan was made from, resolved: the directory
// query, the Adobe query of each org, the strategy and the options as
// text (flags and file names, never secrets).
type PlanInputs struct {
	Directory SourceQuery           `json:"directory"`
	Adobe     map[string]AdobeQuery `json:"adobe"`
	Strategy  Strategy              `json:"strategy"`
	Options   map[string]string     `json:"options,omitempty"`
}

// ResolveInputs resolves the queries o asks for.
func ResolveInputs(o *Options) PlanInputs {
	return PlanInputs{Directory: DirectoryQuery(o), Adobe: AdobeQueries(o), Strategy: o.Strategy}
}

// Outcome is the result of one change.
type Outcome string

// The outcomes.
const (
	OutcomeSucceeded Outcome = "succeeded"
	OutcomeFailed    Outcome = "failed"
	OutcomeSkipped   Outcome = "skipped" // not sent (cancelled, excluded)
)

// ChangeResult is what became of one change.
type ChangeResult struct {
	ChangeID int     `json:"change_id"`
	Org      string  `json:"org"`
	Outcome  Outcome `json:"outcome"`
	// Code and Message are the server's error code and message.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Warnings are the server's warnings for the change.
	Warnings []string `json:"warnings,omitempty"`
}

// OrgStats are UST's per-connection action counts.
type OrgStats struct {
	Total   int `json:"total"`
	Success int `json:"success"`
	Errors  int `json:"errors"`
}

// ApplyResult is the outcome of applying a plan.
type ApplyResult struct {
	Results  []ChangeResult      `json:"results"`
	Requests int                 `json:"requests"`
	Orgs     map[string]OrgStats `json:"orgs"`
	// Cancelled is set when the apply stopped early; Results then says what
	// was sent and NotSent lists the change IDs that were not.
	Cancelled bool  `json:"cancelled,omitempty"`
	NotSent   []int `json:"not_sent,omitempty"`
}
