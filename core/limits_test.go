package core

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMaxGroupRemovalsWithholdsOnlyTheGroupOverTheLimit(t *testing.T) {
	// ana and bo leave Marketing (All Apps) and Design (Design Team); three
	// others keep both. 2 of 5 All Apps members is 40%, over 30%; Design
	// Team has 20 members, so 2 removals are 10%.
	var adobe []AdobeUser
	var dir []DirectoryUser
	for _, e := range []string{"cy@example.org", "dee@example.org", "eve@example.org"} {
		adobe = append(adobe, adobeU(e, "All Apps", "Design Team"))
		dir = append(dir, dirU(e, "Marketing", "Design"))
	}
	adobe = append(adobe, adobeU("ana@example.org", "All Apps", "Design Team"), adobeU("bo@example.org", "All Apps", "Design Team"))
	dir = append(dir, dirU("ana@example.org"), dirU("bo@example.org"))
	s := planSnap(dir, adobe)
	os := s.Adobe[PrimaryOrg]
	os.Groups = []AdobeGroup{{Name: "All Apps", Type: "PRODUCT_PROFILE", MemberCount: 5}, {Name: "Design Team", Type: "USER_GROUP", MemberCount: 20}}
	s.Adobe[PrimaryOrg] = os
	p := mustBuildPlan(t, s, planOpts(func(o *Options) {
		o.Safety.MaxGroupRemovals = Limit{Set: true, Percent: 30, IsPercent: true, Text: "30%"}
	}))
	want := []string{
		"primary remove_groups ana@example.org [design team]",
		"primary remove_groups bo@example.org [design team]",
		"withheld primary remove_groups ana@example.org [all apps]",
		"withheld primary remove_groups bo@example.org [all apps]",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	wantHold := []GroupHold{{Org: PrimaryOrg, Group: "all apps", Members: 5, Removals: 2, Max: 1, Setting: "30%", Changes: []int{2, 3}}}
	if d := cmp.Diff(wantHold, p.GroupHolds); d != "" {
		t.Errorf("GroupHolds (-want +got):\n%s", d)
	}
	for _, c := range p.Withheld {
		if c.Held != HoldGroupRemovals {
			t.Errorf("withheld change %d held by %q; want %q", c.ID, c.Held, HoldGroupRemovals)
		}
	}
}

func quotaSnap(quota string) *Snapshot {
	s := planSnap(
		[]DirectoryUser{dirU("a1@example.org", "Marketing"), dirU("c@example.org", "Marketing"), dirU("b@example.org", "Marketing"), dirU("d@example.org", "Marketing")},
		[]AdobeUser{adobeU("a1@example.org", "All Apps"), adobeU("gone@example.org", "All Apps"), adobeU("b@example.org"), adobeU("c@example.org"), adobeU("d@example.org")})
	os := s.Adobe[PrimaryOrg]
	os.Groups = []AdobeGroup{{Name: "All Apps", Type: "PRODUCT_PROFILE", ProductName: "CC", MemberCount: 2, LicenseQuota: quota}}
	s.Adobe[PrimaryOrg] = os
	return s
}

func TestLicenseQuota(t *testing.T) {
	remove := func(o *Options) { o.AdobeOnlyAction = AdobeOnlyRemove }
	for _, tc := range []struct {
		name   string
		quota  string
		policy QuotaPolicy
		want   []string
		seat   SeatRow
	}{
		// gone leaves the org and frees a seat: 2-1+3 = 4 > 3, so one of
		// the three adds (d, the last by user key) is withheld.
		{"hold", "3", "", []string{
			"primary add_groups b@example.org [all apps]",
			"primary add_groups c@example.org [all apps]",
			"primary remove_from_org gone@example.org",
			"withheld primary add_groups d@example.org [all apps]",
		}, SeatRow{Org: PrimaryOrg, Group: "All Apps", Product: "CC", Quota: "3", Limited: true, Before: 2, After: 3, Adds: 3, Removals: 1, Held: 1, Over: true}},
		{"warn", "3", QuotaWarn, []string{
			"primary add_groups b@example.org [all apps]",
			"primary add_groups c@example.org [all apps]",
			"primary add_groups d@example.org [all apps]",
			"primary remove_from_org gone@example.org",
		}, SeatRow{Org: PrimaryOrg, Group: "All Apps", Product: "CC", Quota: "3", Limited: true, Before: 2, After: 4, Adds: 3, Removals: 1, Over: true}},
		{"unlimited", "UNLIMITED", "", []string{
			"primary add_groups b@example.org [all apps]",
			"primary add_groups c@example.org [all apps]",
			"primary add_groups d@example.org [all apps]",
			"primary remove_from_org gone@example.org",
		}, SeatRow{Org: PrimaryOrg, Group: "All Apps", Product: "CC", Quota: "UNLIMITED", Before: 2, After: 4, Adds: 3, Removals: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustBuildPlan(t, quotaSnap(tc.quota), planOpts(remove, func(o *Options) { o.Safety.LicenseQuota = tc.policy }))
			if d := cmp.Diff(tc.want, planLines(p)); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}
			if d := cmp.Diff([]SeatRow{tc.seat}, p.Seats); d != "" {
				t.Errorf("Seats (-want +got):\n%s", d)
			}
			warned := false
			for _, w := range p.Warnings {
				warned = warned || (strings.Contains(w, `"All Apps"`) && strings.Contains(w, "quota"))
			}
			if warned != tc.seat.Over {
				t.Errorf("warning naming All Apps = %v; want %v (%q)", warned, tc.seat.Over, p.Warnings)
			}
		})
	}
}

func TestGracePeriod(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	snap := func() *Snapshot {
		return planSnap([]DirectoryUser{dirU("ana@example.org", "Design")},
			[]AdobeUser{adobeU("ana@example.org", "Design Team"), adobeU("old@example.org", "Design Team", "Other"), adobeU("new@example.org", "Design Team")})
	}
	opts := func(now time.Time, pending map[string]PendingUser) *Options {
		return planOpts(func(o *Options) {
			o.AdobeOnlyAction = AdobeOnlyDelete
			o.MaxAdobeOnly = Limit{Set: true, Count: 1, Text: "1"}
			o.Safety = Safety{GracePeriod: 7 * 24 * time.Hour, Now: now, Pending: pending}
		})
	}
	// First run: both are missed now; only their mapped groups go.
	p := mustBuildPlan(t, snap(), opts(t0, nil))
	want := []string{
		"primary remove_groups new@example.org [design team]",
		"primary remove_groups old@example.org [design team]",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("first plan (-want +got):\n%s", d)
	}
	if len(p.Pending) != 2 || !p.Pending[0].Due.Equal(t0.Add(7*24*time.Hour)) || p.Pending[0].IsDue {
		t.Fatalf("Pending = %+v; want two entries due in 7 days", p.Pending)
	}
	if p.Limit.Count != 0 || p.Limit.Exceeded {
		t.Errorf("Limit = %+v; want no Adobe-only action counted", p.Limit)
	}
	// Eight days later old (first missed at t0) is due; new was first
	// missed a day ago. Only old's delete counts against the limit of 1.
	pend := map[string]PendingUser{p.Pending[1].Key: p.Pending[1]}
	later := t0.Add(8 * 24 * time.Hour)
	nu := p.Pending[0]
	nu.FirstMissed, nu.Due = later.Add(-24*time.Hour), later.Add(6*24*time.Hour)
	pend[nu.Key] = nu
	p = mustBuildPlan(t, snap(), opts(later, pend))
	want = []string{
		"primary remove_groups new@example.org [design team]",
		"primary delete old@example.org",
	}
	if d := cmp.Diff(want, planLines(p)); d != "" {
		t.Errorf("plan after the period (-want +got):\n%s", d)
	}
	if p.Limit.Count != 1 || p.Limit.Exceeded || p.Counters.StraysProcessed != 1 {
		t.Errorf("Limit = %+v, strays processed %d; want 1 action counted", p.Limit, p.Counters.StraysProcessed)
	}
	if len(p.Pending) != 2 || !p.Pending[1].IsDue || p.Pending[0].IsDue {
		t.Errorf("Pending = %+v; want old due, new pending", p.Pending)
	}
	// A run that does not track Adobe-only users keeps the entries.
	o := opts(later, pend)
	o.AdobeOnlyAction = AdobeOnlyPreserve
	o.ProcessGroups = false
	p = mustBuildPlan(t, snap(), o)
	if len(p.Pending) != 2 {
		t.Errorf("Pending of a run without Adobe-only processing = %+v; want the two entries carried", p.Pending)
	}
}
