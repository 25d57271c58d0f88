package store

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

func TestPendingReplacedByEachSave(t *testing.T) {
	db := openTemp(t)
	if got, err := db.Pending(); err != nil || len(got) != 0 {
		t.Fatalf("Pending() on a new database = %v, %v; want none", got, err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a := core.PendingUser{Key: "federatedid,a@example.org,", Email: "a@example.org", Action: core.AdobeOnlyRemove, FirstMissed: t0, Due: t0.Add(time.Hour)}
	b := core.PendingUser{Key: "federatedid,b@example.org,", Email: "b@example.org", Action: core.AdobeOnlyRemove, FirstMissed: t0, Due: t0.Add(time.Minute)}
	if err := db.SavePending([]core.PendingUser{a, b}); err != nil {
		t.Fatal(err)
	}
	list, err := db.PendingList()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]core.PendingUser{b, a}, list); d != "" {
		t.Errorf("PendingList() (-want +got):\n%s", d)
	}
	// b reappeared: the next save drops it.
	if err := db.SavePending([]core.PendingUser{a}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Pending()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]core.PendingUser{a.Key: a}, got); d != "" {
		t.Errorf("Pending() after the second save (-want +got):\n%s", d)
	}
}
