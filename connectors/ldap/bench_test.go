package ldap

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/usersync/usersync/core"
)

// BenchmarkRead100k reads 100,000 users in 50 groups of 2,000 from a slapd
// of their own, as `usersync sync --users mapped` does with the 50 groups
// mapped (memberOf searches, search_page_size 1000), and, for comparison,
// every user (--users all). Setup (LDIF generation, slapadd, start) is not
// timed. Run:
//
//	go test -run '^$' -bench Read100k -benchmem ./connectors/ldap/
func BenchmarkRead100k(b *testing.B) {
	bin := slapdBinary()
	if bin == "" || moduleDir() == "" {
		b.Skip("OpenLDAP slapd is not installed; benchmark skipped")
	}
	const users, groups = 100_000, 50
	dir := b.TempDir()
	inst, stop, err := startSlapd(bin, dir, func(string) map[string]string {
		return map[string]string{suffix: bulkLDIF(users, groups)}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	names := make([]string, groups)
	for i := range names {
		names[i] = fmt.Sprintf("Group %02d", i)
	}
	yml := fmt.Sprintf(`host: %s
base_dn: %s
username: %s
password: %s
all_users_filter: (objectClass=inetOrgPerson)
search_page_size: 1000
`, inst.ldapURL, suffix, rootDN, rootPW)
	n, err := configParse(b, yml)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := ParseConfig(context.Background(), n, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		q    core.SourceQuery
	}{
		{"mapped", core.SourceQuery{Groups: names}},
		{"all", core.SourceQuery{AllUsers: true, Groups: names}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var res core.DirectoryResult
			for b.Loop() {
				res, err = New(cfg, nil).Users(context.Background(), bc.q, nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Users) != users {
					b.Fatalf("read %d users; want %d", len(res.Users), users)
				}
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "MiB-heap-holding-result")
			b.ReportMetric(float64(users)/(b.Elapsed().Seconds()/float64(b.N)), "users/s")
			runtime.KeepAlive(res)
		})
	}
}

// bulkLDIF is users people spread evenly over groups groupOfNames groups,
// with memberOf written as the overlay would.
func bulkLDIF(users, groups int) string {
	var w ldifWriter
	w.entry(suffix, "objectClass", "dcObject", "objectClass", "organization", "dc", "example", "o", "Example")
	w.entry("ou=people,"+suffix, "objectClass", "organizationalUnit", "ou", "people")
	w.entry("ou=groups,"+suffix, "objectClass", "organizationalUnit", "ou", "groups")
	members := make([][]string, groups)
	for i := range users {
		members[i%groups] = append(members[i%groups], fmt.Sprintf("uid=u%06d,ou=people,%s", i, suffix))
	}
	for g := range groups {
		a := []string{"objectClass", "groupOfNames", "cn", fmt.Sprintf("Group %02d", g)}
		for _, m := range members[g] {
			a = append(a, "member", m)
		}
		w.entry(fmt.Sprintf("cn=Group %02d,ou=groups,%s", g, suffix), a...)
	}
	for i := range users {
		uid := fmt.Sprintf("u%06d", i)
		w.entry(fmt.Sprintf("uid=%s,ou=people,%s", uid, suffix), "objectClass", "inetOrgPerson", "uid", uid,
			"cn", "User "+uid, "givenName", "User", "sn", uid, "mail", uid+"@example.org",
			"memberOf", fmt.Sprintf("cn=Group %02d,ou=groups,%s", i%groups, suffix))
	}
	return w.b.String()
}
