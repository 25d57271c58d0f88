// Package tui is the interactive sync console: fetch both sides, review the
// plan (filter, exclude, approve), watch the apply, and look back at past
// runs.
//
// The console computes no sync logic of its own. It talks to a Backend,
// which cmd/usersync implements on top of core (Fetch, BuildPlan, Explain,
// Apply, EstimatePlan) and the store; package tui/fake implements it in
// memory for tests and screenshots.
//
// Background work (fetch, plan, explain, apply, history) runs in Cmds that
// close over copies of what they need, never over the model. Progress and
// results reach the model through one channel, read by a "wait for next
// event" Cmd that is re-armed after every event; the final message of a run
// goes through the same channel, so it always arrives after that run's
// progress. Every run carries an ID and messages of a stale run are dropped.
//
// The change table is built for plans of 100,000 changes and more: each
// row's searchable text is prepared once, a filter keystroke that narrows
// the query only rescans the previous matches, and View renders only the
// visible window.
//
// Tests drive the model with package tui/tuitest (no terminal, Cmds run in
// goroutines, messages handed to Update on the test's goroutine). Golden
// View files live in testdata/, rendered at 80×24 and 120×40 with colours
// off, and are regenerated with `go test ./tui -update`, which also
// refreshes the captures quoted in docs/console.md.
// BenchmarkFilter100k measures key handling on a 100,000-change plan.
package tui
