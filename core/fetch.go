package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Fetch reads the directory and every org the options call for, in
// parallel, into a Snapshot. Any failed read cancels the others and fails
// the whole fetch: a partial snapshot would make the missing users look
// like users to remove. With --adobe-only-user-list nothing is read; with
// the push strategy no Adobe user is read.
func Fetch(ctx context.Context, src Source, targets map[string]Target, o *Options, r Reporter) (*Snapshot, error) {
	return FetchInputs(ctx, src, targets, o, ResolveInputs(o), r)
}

// FetchInputs is Fetch with the queries already resolved: applying a saved
// plan reads both sides exactly as the plan did, whatever the command line
// of the apply says.
func FetchInputs(ctx context.Context, src Source, targets map[string]Target, o *Options, in PlanInputs, r Reporter) (*Snapshot, error) {
	if r == nil {
		r = NopReporter{}
	}
	snap := &Snapshot{Adobe: map[string]OrgSnapshot{}}
	if o.AdobeOnlyList != nil {
		snap.FetchedAt = time.Now().UTC()
		return snap, nil
	}
	if src == nil {
		return nil, Errorf(CodeInvalidInput, "fetch", "no directory source configured")
	}
	queries := in.Adobe
	if _, err := newGroupIndex(o); err != nil {
		return nil, Errorf(CodeInvalidInput, "fetch", "%v", err)
	}
	orgs := make([]string, 0, len(queries))
	for name := range queries {
		if targets[name] == nil {
			return nil, Errorf(CodeInvalidInput, "fetch", "no UMAPI connection for org %q", name)
		}
		orgs = append(orgs, name)
	}
	sort.Strings(orgs)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
			cancel(err)
		}
	}
	dq := in.Directory
	// Source attributes are read only by the extension hook.
	dq.NoAttributes = o.Hook == nil
	wg.Go(func() {
		res, err := src.Users(ctx, dq, r)
		if err != nil {
			fail(fmt.Errorf("reading the directory: %w", err))
			return
		}
		mu.Lock()
		snap.Directory = res
		mu.Unlock()
	})
	// Groups are read for auto_create and so that the executor knows which
	// groups are user groups it may address directly.
	readGroups := in.Strategy != StrategyPush
	for _, name := range orgs {
		t, q := targets[name], queries[name]
		wg.Go(func() {
			os := OrgSnapshot{Query: q}
			if q.All || len(q.Groups) > 0 {
				users, err := t.Users(ctx, q, r)
				if err != nil {
					fail(fmt.Errorf("reading the users of %s: %w", orgLabel(name), err))
					return
				}
				os.Users = users
			}
			if readGroups {
				groups, err := t.Groups(ctx, r)
				if err != nil {
					fail(fmt.Errorf("reading the groups of %s: %w", orgLabel(name), err))
					return
				}
				os.Groups = groups
			}
			mu.Lock()
			snap.Adobe[name] = os
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		if Code(first) == CodeUnknown && (errors.Is(first, context.Canceled) || errors.Is(first, context.DeadlineExceeded)) {
			return nil, &Error{Code: CodeCanceled, Op: "fetch", Err: first}
		}
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Code: CodeCanceled, Op: "fetch", Err: err}
	}
	snap.FetchedAt = time.Now().UTC()
	return snap, nil
}
