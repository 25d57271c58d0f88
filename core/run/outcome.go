package run

import (
	"fmt"
	"sort"
	"strings"

	"github.com/usersync/usersync/core"
)

// Kind is how a run ended; cmd maps it to an exit code in one place.
type Kind int

// The kinds of outcome, in the order the exit code prefers them.
const (
	// OK: everything planned was applied, or there was nothing to do.
	OK Kind = iota
	// Pending: a plan-only run whose plan has changes to send.
	Pending
	// Failed: finished, but some changes failed at the server.
	Failed
	// Withheld: finished, but a safety limit withheld changes.
	Withheld
	// Interrupted: cancelled; the journal says what was sent.
	Interrupted
	// Fatal: the run stopped on an error; nothing more was sent.
	Fatal
)

func (k Kind) String() string {
	return [...]string{"ok", "pending", "failed", "withheld", "interrupted", "fatal"}[k]
}

// Summary is what a run did, counted from the results of the changes
// actually sent, never from the plan.
type Summary struct {
	// Planned is the number of changes in the plan (withheld ones apart).
	Planned int `json:"planned"`
	// Excluded and Held are the changes not sent by choice (the
	// operator's and remembered exclusions) and their dependents.
	Excluded int `json:"excluded"`
	Held     int `json:"held"`
	// AlreadyDone are the changes an earlier run of the same plan applied.
	AlreadyDone int `json:"already_done,omitempty"`
	// ToSend = Planned - Excluded - Held - AlreadyDone.
	ToSend    int `json:"to_send"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	// NotSent are changes to send that were not (cancel, fatal error).
	NotSent  int `json:"not_sent"`
	Requests int `json:"requests"`
	// Applied counts the succeeded changes by action.
	Applied map[core.Action]int `json:"applied,omitempty"`
	// Counters are the plan's counters with the action counts replaced by
	// what was applied, for UST's Action Summary.
	Counters core.Counters `json:"counters"`
	// Withheld are the changes a safety limit held back.
	Withheld []core.Change `json:"withheld,omitempty"`
	// Released are the changes the operator released from a safety limit
	// (in the console): they are among the changes to send, and each
	// names the limit in Held.
	Released []core.Change `json:"released,omitempty"`
	// NotSentIDs lists NotSent's change IDs.
	NotSentIDs []int `json:"not_sent_ids,omitempty"`
}

// Outcome is the end of a run: the record as written, the plan, what was
// sent and the summary.
type Outcome struct {
	Run      Record
	Plan     *core.Plan
	Result   core.ApplyResult
	Excluded Exclusions
	Summary  Summary
	// Err is the error that stopped the run (Fatal or Interrupted).
	Err error
	// RecordErr is set when the run's record could not be written: the
	// run itself may have gone well, but its history is incomplete.
	RecordErr error
	// PlanOnly is set for a plan that was not applied.
	PlanOnly bool
	// Resume is the command that finishes a run that stopped with changes
	// not sent ("" when there is nothing to finish).
	Resume string
}

// Kind is how the run ended.
func (o *Outcome) Kind() Kind {
	switch {
	case o.Result.Cancelled || (o.Err != nil && core.Code(o.Err) == core.CodeCanceled):
		return Interrupted
	case o.Err != nil:
		return Fatal
	case o.PlanOnly:
		if o.Summary.ToSend > 0 || len(o.Summary.Withheld) > 0 {
			return Pending
		}
		return OK
	case o.Summary.Failed > 0:
		return Failed
	case len(o.Summary.Withheld) > 0:
		return Withheld
	}
	return OK
}

// resumeCommand is the command that finishes run id, with config the
// configuration file.
func resumeCommand(id, config string) string {
	cmd := "usersync apply --resume " + id + " --yes"
	if config != "" {
		cmd += " -c " + shellQuote(config)
	}
	return cmd
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Sent describes in words what the run sent and what it did not.
func (s Summary) Sent() string {
	return fmt.Sprintf("%d of %d changes sent in %d requests (%d succeeded, %d failed); %d not sent",
		s.Succeeded+s.Failed, s.ToSend, s.Requests, s.Succeeded, s.Failed, s.NotSent)
}

// Summarize counts what res applied of plan without x, done being the
// changes earlier runs of the plan applied; res nil is a plan not applied.
func Summarize(plan *core.Plan, x Exclusions, done map[int]bool, res *core.ApplyResult) Summary {
	s := Summary{Planned: len(plan.Changes), Withheld: plan.Withheld, Released: Released(plan),
		Counters: plan.Counters, Applied: map[core.Action]int{}}
	for _, c := range plan.Changes {
		switch {
		case x.direct(c.ID):
			s.Excluded++
		case x.Held[c.ID]:
			s.Held++
		case done[c.ID]:
			s.AlreadyDone++
		}
	}
	s.ToSend = s.Planned - s.Excluded - s.Held - s.AlreadyDone
	if res == nil {
		return s
	}
	s.Requests = res.Requests
	byID := make(map[int]*core.Change, len(plan.Changes))
	for i := range plan.Changes {
		byID[plan.Changes[i].ID] = &plan.Changes[i]
	}
	outcome := map[int]core.Outcome{}
	for _, r := range res.Results {
		outcome[r.ChangeID] = r.Outcome
	}
	type user struct{ org, key string }
	created, updated, strays := map[user]bool{}, map[user]bool{}, map[user]bool{}
	secondary, groups := 0, 0
	for id, oc := range outcome {
		c := byID[id]
		if c == nil {
			continue
		}
		switch oc {
		case core.OutcomeFailed:
			s.Failed++
			continue
		case core.OutcomeSucceeded:
			s.Succeeded++
		default:
			continue
		}
		s.Applied[c.Action]++
		u := user{c.Org, c.Key}
		switch {
		case c.Action == core.ActionCreateGroup:
			groups++
		case c.Action == core.ActionCreate && c.Org == core.PrimaryOrg:
			created[u] = true
		case c.Action == core.ActionCreate:
			secondary++
		case c.AdobeOnly:
			if c.Org == core.PrimaryOrg {
				strays[u] = true
			}
		case c.Org == core.PrimaryOrg:
			updated[u] = true
		}
	}
	for u := range created {
		delete(updated, u)
	}
	// The planner counted users whose every change was withheld as
	// unchanged; those the operator released and that were updated are not.
	releasedOnly := map[user]bool{}
	for _, c := range plan.Changes {
		if c.Held != "" && !c.AdobeOnly && c.Org == core.PrimaryOrg {
			releasedOnly[user{c.Org, c.Key}] = true
		}
	}
	for _, c := range plan.Changes {
		if c.Held == "" {
			delete(releasedOnly, user{c.Org, c.Key})
		}
	}
	for u := range releasedOnly {
		if updated[u] && s.Counters.Unchanged > 0 {
			s.Counters.Unchanged--
		}
	}
	s.Counters.Created, s.Counters.SecondaryCreated, s.Counters.GroupsCreated = len(created), secondary, groups
	s.Counters.Updated = len(updated)
	if s.Counters.StraysTracked {
		s.Counters.StraysProcessed = len(strays)
	}
	for _, c := range plan.Changes {
		if !x.Has(c.ID) && !done[c.ID] {
			if oc := outcome[c.ID]; oc != core.OutcomeSucceeded && oc != core.OutcomeFailed {
				s.NotSentIDs = append(s.NotSentIDs, c.ID)
			}
		}
	}
	sort.Ints(s.NotSentIDs)
	s.NotSent = len(s.NotSentIDs)
	return s
}
