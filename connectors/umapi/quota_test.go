package umapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/connectors/umapi/sim"
)

// The group list carries each product profile's licenseQuota in the three
// forms the API may send, and a true memberCount; /_sim/state keeps the
// quota as seeded.
func TestGroupsReadLicenseQuota(t *testing.T) {
	seed := testSeed()
	seed.Groups[2].LicenseQuota = json.RawMessage(`"3"`)
	seed.Groups[3].LicenseQuota = json.RawMessage(`5`)
	seed.Groups = append(seed.Groups, sim.SeedGroup{Name: "Stock", Type: "PRODUCT_PROFILE", ProductName: "Stock",
		LicenseQuota: json.RawMessage(`"UNLIMITED"`)})
	e := startSim(t, sim.Options{Seed: seed})
	groups, err := e.client(t, nil).Groups(bg, nil)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Quota   string
		Members int
	}
	got := map[string]row{}
	for _, g := range groups {
		got[g.Name] = row{g.LicenseQuota, g.MemberCount}
	}
	want := map[string]row{"All Apps": {"3", 1}, "Acrobat": {"5", 2}, "Stock": {"UNLIMITED", 0}, "Design Team": {"", 1}, "Marketing": {"", 0}}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("group %q: quota, members = %+v; want %+v", name, got[name], w)
		}
	}
	var quotas []string
	for _, g := range e.sim.State().Groups {
		quotas = append(quotas, string(g.LicenseQuota))
	}
	if d := cmp.Diff([]string{"", "", `"3"`, "5", `"UNLIMITED"`}, quotas); d != "" {
		t.Errorf("/_sim/state licenseQuota (-want +got):\n%s", d)
	}
}

func TestSeedRefusesABadLicenseQuota(t *testing.T) {
	for _, q := range []string{`"lots"`, `-1`, `true`} {
		seed := testSeed()
		seed.Groups[2].LicenseQuota = json.RawMessage(q)
		if _, err := sim.New(sim.Options{Seed: seed}); err == nil {
			t.Errorf("seed with licenseQuota %s accepted; want an error", q)
		}
	}
	seed := testSeed()
	seed.Groups[0].LicenseQuota = json.RawMessage(`"3"`)
	if _, err := sim.New(sim.Options{Seed: seed}); err == nil {
		t.Errorf("licenseQuota on a USER_GROUP accepted; want an error")
	}
}
