package core

import (
	"context"
	"log/slog"
)

// NoteKind says which of the planner's decisions a Note records.
type NoteKind string

// The note kinds, in the words of UST's log lines they render as.
const (
	// NoteCreateUser: a directory user is queued for creation.
	NoteCreateUser NoteKind = "create_user"
	// NoteUpdateUser: a matched user's attributes change.
	NoteUpdateUser NoteKind = "update_user"
	// NoteManageGroups: a matched user's groups change.
	NoteManageGroups NoteKind = "manage_groups"
	// NoteAdobeOnly: an Adobe-only user gets an action.
	NoteAdobeOnly NoteKind = "adobe_only"
	// NoteGrace: an Adobe-only user is in its grace period.
	NoteGrace NoteKind = "grace"
	// NoteBlocked: an add to a group that the org lacks, which will fail.
	NoteBlocked NoteKind = "blocked"
	// NoteCreateGroup: a mapped user group is created (auto_create).
	NoteCreateGroup NoteKind = "create_group"
	// NoteAdditionalGroup: an additional group mapping matched.
	NoteAdditionalGroup NoteKind = "additional_group"
	// NoteWarning and NoteError: a value or rule problem that skips or
	// changes what is planned for a user.
	NoteWarning NoteKind = "warning"
	NoteError   NoteKind = "error"
	// NoteQuota: a product profile would pass its licence quota.
	NoteQuota NoteKind = "quota"
	// NoteWithheld: a safety limit withholds changes.
	NoteWithheld NoteKind = "withheld"
	// The debug-level notes, recorded only with Options.DebugNotes.
	NoteDuplicate  NoteKind = "duplicate"
	NoteExcluded   NoteKind = "excluded"
	NoteFound      NoteKind = "found_adobe_only"
	NoteMerged     NoteKind = "merged"
	NoteHookGroups NoteKind = "hook_groups"
)

// Level is the slog level UST logs a note of kind k at.
func (k NoteKind) Level() slog.Level {
	switch k {
	case NoteDuplicate, NoteExcluded, NoteFound, NoteMerged, NoteHookGroups:
		return slog.LevelDebug
	case NoteWarning, NoteQuota:
		return slog.LevelWarn
	case NoteError:
		return slog.LevelError
	case NoteWithheld:
		return LevelCritical
	default:
		return slog.LevelInfo
	}
}

// Note is one of UST's log lines about a decision of the planner, in the
// order the planner made it: the per-change lines (one per user and org,
// so a line may stand for several changes) and the decisions that are not
// changes (an exclusion, a grace period, a withheld limit). The planner
// only records notes; LogNotes renders them.
type Note struct {
	Kind NoteKind `json:"kind"`
	// Org is the org the note is about ("" for none or the primary).
	Org string `json:"org,omitempty"`
	// Key is the user key or group the note is about, if any.
	Key string `json:"key,omitempty"`
	// Text is UST's message, word for word (users grep for it).
	Text string `json:"text"`
}

// PlanError is a plan that could not be made, with the notes the planner
// made before it failed, so that the lines UST logs up to a fatal error
// (a warning about a user, a hook's groups) are not lost with the plan.
type PlanError struct {
	Err   error
	Notes []Note
}

func (e *PlanError) Error() string { return e.Err.Error() }
func (e *PlanError) Unwrap() error { return e.Err }

// LogNotes renders notes (a plan's, or a PlanError's) as UST's log
// lines, in order, at their kinds' levels. A nil logger logs nothing.
func LogNotes(ctx context.Context, lg *slog.Logger, notes []Note) {
	if lg == nil {
		return
	}
	for _, n := range notes {
		if l := n.Kind.Level(); lg.Enabled(ctx, l) {
			lg.Log(ctx, l, n.Text)
		}
	}
}
