// Package memory is a directory held in memory: a core.Source for tests
// and for the bundled demo. It selects users exactly as the real
// connectors do, so that engine tests written against it hold for them.
package memory

import (
	"context"
	"maps"
	"slices"

	"github.com/usersync/usersync/core"
)

// Source is an in-memory directory. Its fields must not be changed while
// Users runs.
type Source struct {
	// Entries are the directory's users (a field cannot share the method
	// name Users); each one's Groups are all the groups
	// it is a member of.
	Entries []core.DirectoryUser
	// Groups are the directory's groups. Groups named by a user are known
	// even when not listed here; list a group here to make it exist
	// without members.
	Groups []string
	// Err, when set, is returned by every read: an unreadable directory.
	Err error
}

// Users returns the members of q.Groups, or every user when q.AllUsers is
// set. Each user's Groups are narrowed to the requested groups it is in
// (as LDAP reports them); MemberGroups keeps all of them. Requested
// groups the directory does not have are listed in MissingGroups.
// Extended attributes a user lacks are present with a nil value. The
// returned users are copies.
func (s *Source) Users(ctx context.Context, q core.SourceQuery, r core.Reporter) (core.DirectoryResult, error) {
	if r == nil {
		r = core.NopReporter{}
	}
	if err := ctx.Err(); err != nil {
		return core.DirectoryResult{}, &core.Error{Code: core.CodeCanceled, Op: "memory directory", Err: err}
	}
	if s.Err != nil {
		return core.DirectoryResult{}, &core.Error{Code: core.CodeUnavailable, Op: "memory directory", Err: s.Err}
	}
	requested := map[string]bool{}
	for _, g := range q.Groups {
		requested[g] = true
	}
	known := map[string]bool{}
	for _, g := range s.Groups {
		known[g] = true
	}
	var res core.DirectoryResult
	for _, u := range s.Entries {
		var in []string
		for _, g := range u.Groups {
			known[g] = true
			if requested[g] && !slices.Contains(in, g) {
				in = append(in, g)
			}
		}
		if !q.AllUsers && len(in) == 0 {
			continue
		}
		c := u
		c.Groups = in
		if c.MemberGroups == nil {
			c.MemberGroups = slices.Clone(u.Groups)
		} else {
			c.MemberGroups = slices.Clone(u.MemberGroups)
		}
		c.Attributes = maps.Clone(u.Attributes)
		for _, a := range q.ExtendedAttributes {
			if _, ok := c.Attributes[a]; !ok {
				if c.Attributes == nil {
					c.Attributes = map[string]any{}
				}
				c.Attributes[a] = nil
			}
		}
		if c.Origin == "" {
			c.Origin = "memory:" + u.Email
		}
		res.Users = append(res.Users, c)
	}
	for _, g := range q.Groups {
		if !known[g] && !slices.Contains(res.MissingGroups, g) {
			res.MissingGroups = append(res.MissingGroups, g)
		}
	}
	r.Progress(core.Progress{Phase: core.PhaseDirectory, Users: len(res.Users), Groups: len(q.Groups), Done: true})
	return res, nil
}
