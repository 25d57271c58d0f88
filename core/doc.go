// Package core is the domain of usersync: identity types, user keys and
// matching, group mapping, the planner that turns a snapshot of both sides
// into a Plan, and the executor that applies a Plan through a Target.
//
// core declares the interfaces it consumes (Source, Target, Reporter, Hook,
// Journal) and never imports a connector, the store, the console or any
// terminal library. A test at the repository root enforces that.
//
// Data flow:
//
//	Source ──► Fetch ─┐
//	Target ──► Fetch ─┴► Snapshot ──► BuildPlan ──► Plan ──► Apply ──► Target
//	                                                  │          └► Journal, Reporter
//	                                        renderers (text, JSON, console)
package core
