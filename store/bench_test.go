package store

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/usersync/usersync/core"
)

// generate makes n directory users and n Adobe users in 20 groups.
func generate(n int) *core.Snapshot {
	groups := make([]string, 20)
	for i := range groups {
		groups[i] = fmt.Sprintf("Group %02d", i)
	}
	dir := make([]core.DirectoryUser, n)
	adobe := make([]core.AdobeUser, n)
	for i := range n {
		email := fmt.Sprintf("user%07d@example.org", i)
		g := []string{groups[i%20], groups[(i*7)%20]}
		dir[i] = core.DirectoryUser{Type: core.FederatedID, Username: email, Email: email,
			Firstname: fmt.Sprintf("First%d", i), Lastname: fmt.Sprintf("Last%d", i), Country: "US", Groups: g,
			Origin: fmt.Sprintf("uid=user%07d,ou=people,dc=example,dc=org", i)}
		adobe[i] = core.AdobeUser{Type: core.FederatedID, Username: email, Email: email, Domain: "example.org",
			Firstname: fmt.Sprintf("First%d", i), Lastname: fmt.Sprintf("Last%d", i), Country: "US", Groups: g, Status: "active"}
	}
	return &core.Snapshot{
		Directory: core.DirectoryResult{Users: dir},
		Adobe:     map[string]core.OrgSnapshot{core.PrimaryOrg: {Users: adobe, Query: core.AdobeQuery{All: true}}},
	}
}

// BenchmarkSnapshotMillion stores and reloads a snapshot of 1,000,000
// directory users and 1,000,000 Adobe users, and reports the file size:
//
//	go test -run '^$' -bench SnapshotMillion -benchtime 1x -benchmem ./store/
func BenchmarkSnapshotMillion(b *testing.B) {
	s := generate(1_000_000)
	b.ResetTimer()
	for range b.N {
		path := filepath.Join(b.TempDir(), "usersync.db")
		db, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		run, _ := db.CreateRun(RunInfo{Command: "bench"})
		if err := db.SaveSnapshot(run.ID, s); err != nil {
			b.Fatal(err)
		}
		got, err := db.Snapshot(run.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(got.Directory.Users) != len(s.Directory.Users) || len(got.Adobe[core.PrimaryOrg].Users) != len(s.Adobe[core.PrimaryOrg].Users) {
			b.Fatal("snapshot lost users")
		}
		db.Close()
		fi, _ := os.Stat(path)
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-file")
	}
}
