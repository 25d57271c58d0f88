package umapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// genericRecords decodes a page the way the client did before the
// scanner: encoding/json into usersPage, then convert.
func genericRecords(data []byte) (*userRecords, error) {
	var w usersPage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	cp := convert(w.Users)
	return &userRecords{LastPage: w.LastPage, Result: w.Result, Message: w.Message, Users: cp.users, ids: cp.ids}, nil
}

var userPageCases = []string{
	`{"lastPage":true,"result":"success","users":[{"id":"1","email":"a@x.org","status":"active","groups":["G 1","G 2"],"username":"a@x.org","domain":"x.org","firstname":"A","lastname":"B","country":"US","type":"federatedID"}]}`,
	`{"lastPage":false,"result":"success","groupName":"G","users":[{"email":"a@x.org","username":"other","type":"adobeID","groups":[]},{"email":"b@x.org","type":"weird"}]}` + "\n",
	`{"lastPage":null,"result":null,"users":null}`,
	`{"users":[]}`,
	`{}`,
	` { "result" : "success" , "users" : [ { "email" : "\u00e9@x.org" , "firstname" : "Zo\u00eb" , "lastname":"Zoë", "extra": {"a":[1,2.5e3,true,null,"s\"q"]} , "groups" : null } ] } `,
	`{"users":[{"email":"a@x.org","email":"b@x.org","groups":["x"],"groups":["y","z"]}]}`,
	`{"users":[{"Email":"a@x.org"}]}`,
	`{"USERS":[{"email":"a@x.org"}]}`,
	`{"users":[null]}`,
	`{"users":[{"email":"a@x.org"}],"users":[]}`,
	`{"users":[{"email":5}]}`,
	`{"lastPage":"yes","users":[]}`,
	`{"users":[{"email":"a@x.org","firstname":"bad \xff byte"}]}`,
	`{"users":[{"email":"a@x.org"}]} x`,
	`{"users":[{"email":"a@x.org",}]}`,
	`{"users":[{"email":"a@x.org","n":01}]}`,
	`{"users":[{"email":"a@x.org","n":"\x"}]}`,
	`{"users":[{"email":"a@x.org","groups":["a\tb"]}]}`,
	`[]`,
	`{"users":[{"groups":["a","b"]},{"groups":["a","b"]},{"groups":["a]","b"]},{"groups":["a]","b"]},{"groups":[ "a","b" ]},{"groups":["a"]}]}`,
	``,
	`{"lastPage":true,"result":"success","message":"m","users":[{"id":"","status":"disabled","domain":"x.org","country":"us","type":"FEDERATEDID"}]}`,
}

// TestUserRecordsMatchGenericDecoding checks that the page scanner
// decodes exactly what encoding/json and convert do, and fails where they
// fail.
func TestUserRecordsMatchGenericDecoding(t *testing.T) {
	for _, in := range userPageCases {
		checkUserRecords(t, []byte(in))
	}
}

func checkUserRecords(t *testing.T, in []byte) {
	t.Helper()
	got, gotErr := decodeUserRecords(in, 2, nil)
	want, wantErr := genericRecords(in)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decodeUserRecords(%q) error %v; want %v", in, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(userRecords{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("decodeUserRecords(%q) differs from encoding/json (-want +got):\n%s", in, diff)
	}
}

func FuzzUserRecords(f *testing.F) {
	for _, in := range userPageCases {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkUserRecords(t, in)
	})
}
