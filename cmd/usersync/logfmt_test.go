package main

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
	"time"
)

func TestUSTLineFormat(t *testing.T) {
	var console, file bytes.Buffer
	cl, fl := new(slog.LevelVar), new(slog.LevelVar)
	cl.Set(slog.LevelWarn)
	fl.Set(slog.LevelDebug)
	h := newUSTHandler(sink{&console, cl}, sink{&file, fl})
	log := slog.New(h)
	named(log, "processor").Info("Number of directory users read: 3")
	log.Warn("careful", "user", "ana@example.org")
	log.Log(context.Background(), LevelCritical, "boom")
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d+ (INFO|WARNING|CRITICAL) (processor|main) - `)
	lines := bytes.Split(bytes.TrimSpace(file.Bytes()), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("file got %d lines; want 3:\n%s", len(lines), file.String())
	}
	for _, l := range lines {
		if !re.Match(l) {
			t.Errorf("line %q is not in UST's format", l)
		}
	}
	if !bytes.Contains(lines[0], []byte("INFO processor - Number of directory users read: 3")) {
		t.Errorf("line 0 = %q", lines[0])
	}
	if !bytes.Contains(lines[1], []byte("WARNING main - careful user=ana@example.org")) {
		t.Errorf("line 1 = %q", lines[1])
	}
	if n := bytes.Count(console.Bytes(), []byte("\n")); n != 2 {
		t.Errorf("console (warning and up) got %d lines; want 2", n)
	}
}

func TestBannerAndDuration(t *testing.T) {
	b := banner('=', "Start Run (User Sync version: 1.0)")
	if len(b) != 70 || b[:11] != "========== " {
		t.Errorf("banner = %q (len %d)", b, len(b))
	}
	if got := formatDuration(3723 * time.Second); got != "1:02:03" {
		t.Errorf("formatDuration = %q", got)
	}
}
