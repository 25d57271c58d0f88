package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// memDirectory is an in-memory directory. When block is set, Users waits for
// the context to end, so that tests can see a failure elsewhere cancel it.
type memDirectory struct {
	users []DirectoryUser
	err   error
	block bool
	mu    sync.Mutex
	got   []SourceQuery
}

func (s *memDirectory) Users(ctx context.Context, q SourceQuery, _ Reporter) (DirectoryResult, error) {
	s.mu.Lock()
	s.got = append(s.got, q)
	s.mu.Unlock()
	if s.block {
		<-ctx.Done()
		return DirectoryResult{}, ctx.Err()
	}
	if s.err != nil {
		return DirectoryResult{}, s.err
	}
	return DirectoryResult{Users: s.users}, nil
}

// memOrg is an in-memory org.
type memOrg struct {
	users      []AdobeUser
	groups     []AdobeGroup
	err        error
	userCalls  atomic.Int32
	groupCalls atomic.Int32
}

func (t *memOrg) Users(_ context.Context, q AdobeQuery, _ Reporter) ([]AdobeUser, error) {
	t.userCalls.Add(1)
	if t.err != nil {
		return nil, t.err
	}
	return t.users, nil
}

func (t *memOrg) Groups(context.Context, Reporter) ([]AdobeGroup, error) {
	t.groupCalls.Add(1)
	return t.groups, nil
}

func (t *memOrg) Send(context.Context, ActionRequest, Reporter) (ActionResponse, error) {
	return ActionResponse{}, errors.New("memOrg: Send not supported")
}

func TestFetch(t *testing.T) {
	ctx := context.Background()
	t.Run("reads both sides", func(t *testing.T) {
		src := &memDirectory{users: []DirectoryUser{dirU("a@x.com", "Marketing")}}
		prim := &memOrg{users: []AdobeUser{adobeU("a@x.com")}, groups: []AdobeGroup{{Name: "All Apps"}}}
		eu := &memOrg{users: []AdobeUser{adobeU("b@x.com")}}
		idle := &memOrg{}
		o := planOpts(func(o *Options) {
			o.Secondaries = []string{"eu", "idle"}
			o.GroupMapping[1].AdobeGroups = []string{"eu::Design EU"}
		})
		snap, err := Fetch(ctx, src, map[string]Target{PrimaryOrg: prim, "eu": eu, "idle": idle}, o, nil)
		if err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		want := map[string]OrgSnapshot{
			PrimaryOrg: {Users: []AdobeUser{adobeU("a@x.com")}, Groups: []AdobeGroup{{Name: "All Apps"}}, Query: AdobeQuery{All: true}},
			"eu":       {Users: []AdobeUser{adobeU("b@x.com")}, Query: AdobeQuery{All: true}},
		}
		if d := cmp.Diff(want, snap.Adobe); d != "" {
			t.Errorf("Adobe (-want +got):\n%s", d)
		}
		if len(snap.Directory.Users) != 1 || snap.FetchedAt.IsZero() {
			t.Errorf("Directory = %+v, FetchedAt %v", snap.Directory, snap.FetchedAt)
		}
		if idle.userCalls.Load() != 0 {
			t.Error("an org without mapped groups was read")
		}
	})
	t.Run("a failed org fails closed and cancels the directory read", func(t *testing.T) {
		src := &memDirectory{block: true}
		boom := Errorf(CodeUnavailable, "umapi users page 3", "503")
		prim := &memOrg{err: boom}
		snap, err := Fetch(ctx, src, map[string]Target{PrimaryOrg: prim}, planOpts(), nil)
		if snap != nil || !errors.Is(err, boom) || Code(err) != CodeUnavailable {
			t.Fatalf("Fetch = %v, %v; want no snapshot and the unavailable error", snap, err)
		}
	})
	t.Run("a failed directory fails closed", func(t *testing.T) {
		src := &memDirectory{err: Errorf(CodeUnauthenticated, "ldap bind", "bad password")}
		snap, err := Fetch(ctx, src, map[string]Target{PrimaryOrg: &memOrg{}}, planOpts(), nil)
		if snap != nil || Code(err) != CodeUnauthenticated {
			t.Fatalf("Fetch = %v, %v; want no snapshot and the directory error", snap, err)
		}
	})
	t.Run("missing connection", func(t *testing.T) {
		_, err := Fetch(ctx, &memDirectory{}, map[string]Target{}, planOpts(), nil)
		if Code(err) != CodeInvalidInput {
			t.Fatalf("Fetch = %v; want invalid input", err)
		}
	})
	t.Run("adobe-only list reads nothing", func(t *testing.T) {
		src := &memDirectory{}
		prim := &memOrg{}
		o := planOpts(func(o *Options) { o.AdobeOnlyList = []Stray{} })
		if _, err := Fetch(ctx, src, map[string]Target{PrimaryOrg: prim}, o, nil); err != nil {
			t.Fatal(err)
		}
		if len(src.got) != 0 || prim.userCalls.Load() != 0 || prim.groupCalls.Load() != 0 {
			t.Error("list mode read a side")
		}
	})
	t.Run("push reads no Adobe users", func(t *testing.T) {
		src := &memDirectory{}
		prim := &memOrg{}
		o := planOpts(func(o *Options) { o.Strategy = StrategyPush })
		if _, err := Fetch(ctx, src, map[string]Target{PrimaryOrg: prim}, o, nil); err != nil {
			t.Fatal(err)
		}
		if len(src.got) != 1 || prim.userCalls.Load() != 0 {
			t.Errorf("push: directory reads %d, Adobe reads %d; want 1, 0", len(src.got), prim.userCalls.Load())
		}
	})
}
