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
	"github.com/usersync/usersync/tui/fake"
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
		done <- tui.Run(context.Background(), fake.New(fake.Config{}), tui.Options{Title: "demo", Input: in, Output: out, NoColor: true})
	}()
	waitOutput(t, out, "18 changes")
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
	b := fake.New(fake.Config{Hold: hold, LimitExceeded: true})
	in, inw := io.Pipe()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- tui.Run(context.Background(), b, tui.Options{Input: in, Output: out, NoColor: true})
	}()
	waitOutput(t, out, "15 changes")
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
	if got := len(b.Applied()); got != 2 {
		t.Errorf("%d changes applied; want the 2 of the request in flight", got)
	}
}

// TestRunContextCancel ends Run through its context.
func TestRunContextCancel(t *testing.T) {
	in, _ := io.Pipe()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tui.Run(ctx, fake.New(fake.Config{}), tui.Options{Input: in, Output: out, NoColor: true})
	}()
	waitOutput(t, out, "18 changes")
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
