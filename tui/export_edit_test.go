package tui

import "github.com/usersync/usersync/core/config"

// MappingEdits are the Mappings screen's edits not yet written.
func (m *Model) MappingEdits() []config.MappingEdit { return m.mappings.edits }

// MappingBusy reports whether a replan or a write is running.
func (m *Model) MappingBusy() bool { return m.mappings.busy != "" }

// MappingOutcome is what the last edit, undo or write said, and its error.
func (m *Model) MappingOutcome() (msg, err string) { return m.mappings.msg, m.mappings.err }

// MappingDiff is how the unwritten edits change the plan, in words.
func (m *Model) MappingDiff() []string { return m.mappings.diff }

// ReviewOnly is the label of the review's mapping filter, or "".
func (m *Model) ReviewOnly() string {
	if m.review.only == nil {
		return ""
	}
	return m.review.only.label
}
