package store

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/usersync/usersync/core"
)

// TestAttributesRoundTrip stores source attributes in the binary form and
// reads them back, and still reads the JSON form of older snapshots.
func TestAttributesRoundTrip(t *testing.T) {
	users := []core.DirectoryUser{
		{Email: "a@x.org", Attributes: map[string]any{"email": "a@x.org", "firstname": nil, "memberOf": []string{"cn=A", "cn=B"},
			"empty": []string{}, "n": 3.5, "ok": true, "": "blank name"}},
		{Email: "b@x.org"},
		{Email: "c@x.org", Attributes: map[string]any{}},
	}
	chunks, err := encodeDirectory(users)
	if err != nil {
		t.Fatal(err)
	}
	dec, n, err := newDecoder(chunks[0])
	if err != nil || n != len(users) {
		t.Fatalf("newDecoder: %d users, %v", n, err)
	}
	for i, want := range users {
		var got core.DirectoryUser
		dec.directoryUser(&got)
		if dec.err != nil {
			t.Fatal(dec.err)
		}
		if len(want.Attributes) == 0 {
			want.Attributes = nil
		}
		if diff := cmp.Diff(want.Attributes, got.Attributes); diff != "" {
			t.Errorf("user %d: attributes differ (-want +got):\n%s", i, diff)
		}
	}

	old, err := decodeAttributes(`{"email":"a@x.org","firstname":null,"memberOf":["cn=A"]}`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"email": "a@x.org", "firstname": nil, "memberOf": []string{"cn=A"}}, old); diff != "" {
		t.Errorf("JSON attributes differ (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"\x01", "\x01\x02\x01a", "\x01\x01\x01a\x09", "\x02", "{", "\x01\x01\x01a\x01\x05ab"} {
		if _, err := decodeAttributes(bad); err == nil {
			t.Errorf("decodeAttributes(%q) = nil error; want errCorrupt", bad)
		}
	}
}
