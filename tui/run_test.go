package tui_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usersync/usersync/tui"
)

// syncBuffer is a bytes.Buffer safe for the program's writer and the
// test's reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitOutput(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("output never showed %q; got:\n%s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRunQuits runs the real bubbletea program on pipes: it shows the
// review, and q ends Run without error.
func TestRunQuits(t *testing.T) {
	in, inw := io.Pipe()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- tui.Run(context.Background(), newEnv(t, envOpts{}).b, tui.Options{Title: "demo", Input: in, Output: out, NoColor: true})
	}()
	waitOutput(t, out, "31 changes")
	if _, err := inw.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v; want nil after q", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after q")
	}
	if s := out.String(); strings.Contains(s, "\x1b[3") || strings.Contains(s, "\x1b[4") {
		t.Errorf("colours in the output with NoColor set")
	}
}

// TestRunQuitDuringApplyWaitsForRequest quits during an apply and checks
// that Run returns only after the request in flight has been answered.
func TestRunQuitDuringApplyWaitsForRequest(t *testing.T) {
	hold := make(chan struct{})
	e := newEnv(t, envOpts{wrap: gateActions(hold), limit: "2"})
	b := e.b
	in, inw := io.Pipe()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- tui.Run(context.Background(), b, tui.Options{Input: in, Output: out, NoColor: true})
	}()
	waitOutput(t, out, "27 changes")
	inw.Write([]byte("A"))
	waitOutput(t, out, "Apply now?")
	inw.Write([]byte("y"))
	waitOutput(t, out, "Applying")
	inw.Write([]byte("q"))
	waitOutput(t, out, "Quit anyway?")
	inw.Write([]byte("y"))
	// Run must wait for the request in flight; this check can only miss a
	// bug, never invent one.
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a request was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(hold) // the reply arrives; the apply sees the cancel and stops
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the apply stopped")
	}
	o := b.Outcome()
	if o == nil {
		t.Fatal("no outcome after the apply stopped")
	}
	// The secondary org's request, then the primary's first, held in
	// flight while the console quits.
	if got := e.actionRequests(t); o.Summary.Requests != got || got != 2 {
		t.Errorf("the run counts %d requests and the servers %d; want 2", o.Summary.Requests, got)
	}
	if o.Summary.Succeeded == 0 || o.Summary.NotSent == 0 || o.Resume == "" {
		t.Errorf("summary %+v, resume %q; want some applied, some not sent, and the command that finishes the run", o.Summary, o.Resume)
	}
}

// TestRunContextCancel ends Run through its context.
func TestRunContextCancel(t *testing.T) {
	in, _ := io.Pipe()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tui.Run(ctx, newEnv(t, envOpts{}).b, tui.Options{Input: in, Output: out, NoColor: true})
	}()
	waitOutput(t, out, "31 changes")
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v after cancel; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
