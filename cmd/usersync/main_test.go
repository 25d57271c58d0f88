package main

import "testing"

func TestSuggestCommand(t *testing.T) {
	for _, tc := range []struct{ typed, want string }{
		{"ssync", ` (did you mean "sync"?)`},
		{"SYNC", ` (did you mean "sync"?)`},
		{"hisotry", ` (did you mean "history"?)`},
		{"aplpy", ` (did you mean "apply"?)`},
		{"zzzzzz", ""},
	} {
		if got := suggestCommand(tc.typed); got != tc.want {
			t.Errorf("suggestCommand(%q) = %q; want %q", tc.typed, got, tc.want)
		}
	}
}
