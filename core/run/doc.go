// Package run is the one run lifecycle under every front end: plan (fetch,
// snapshots, plan, record), apply (exclusions, remembered ones and held
// dependents computed once; journal; results; run record), resume, and the
// summary counted from what was actually applied.
//
// The headless commands and the console call an Engine and render what it
// returns; cmd maps an Outcome's Kind to an exit code in one function. The
// package declares the Store it records into; package store implements it.
package run
