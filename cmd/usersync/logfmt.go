package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// LevelCritical is UST's CRITICAL level, above slog's ERROR.
const LevelCritical = slog.Level(12)

// levelName spells levels as UST (Python logging) does.
func levelName(l slog.Level) string {
	switch {
	case l >= LevelCritical:
		return "CRITICAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// parseLevel reads UST's logging level names; ok is false for unknown ones.
func parseLevel(s string) (slog.Level, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, true
	case "info", "":
		return slog.LevelInfo, true
	case "warning", "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	case "critical":
		return LevelCritical, true
	}
	return slog.LevelInfo, false
}

// sink is one destination of log lines with its own level.
type sink struct {
	w     io.Writer
	level *slog.LevelVar
}

// ustHandler writes UST's line format:
//
//	2026-11-22 04:00:01 6840 INFO processor - Number of directory users read: 120
//
// The logger name comes from the "logger" attribute (default "main"); other
// attributes are appended as key=value. Several sinks (console, file) each
// filter by their own level.
type ustHandler struct {
	mu     *sync.Mutex
	sinks  []sink
	logger string
	attrs  string
	pid    int
	now    func() time.Time
}

func newUSTHandler(sinks ...sink) *ustHandler {
	return &ustHandler{mu: &sync.Mutex{}, sinks: sinks, logger: "main", pid: os.Getpid(), now: time.Now}
}

func (h *ustHandler) Enabled(_ context.Context, l slog.Level) bool {
	for _, s := range h.sinks {
		if l >= s.level.Level() {
			return true
		}
	}
	return false
}

func (h *ustHandler) Handle(_ context.Context, r slog.Record) error {
	logger := h.logger
	var extra strings.Builder
	extra.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "logger" {
			logger = a.Value.String()
			return true
		}
		fmt.Fprintf(&extra, " %s=%v", a.Key, a.Value.Any())
		return true
	})
	t := r.Time
	if t.IsZero() {
		t = h.now()
	}
	line := fmt.Sprintf("%s %d %s %s - %s%s\n", t.Local().Format("2006-01-02 15:04:05"), h.pid,
		levelName(r.Level), logger, r.Message, extra.String())
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.sinks {
		if r.Level >= s.level.Level() {
			io.WriteString(s.w, line)
		}
	}
	return nil
}

func (h *ustHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		if a.Key == "logger" {
			c.logger = a.Value.String()
			continue
		}
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
	}
	c.attrs = b.String()
	return &c
}

func (h *ustHandler) WithGroup(string) slog.Handler { return h }

// named returns a logger for one of UST's logger names.
func named(l *slog.Logger, name string) *slog.Logger { return l.With("logger", name) }

// banner formats UST's stage banners: 10 divider characters, the text, and
// padding to 70 characters.
func banner(div byte, text string) string {
	s := strings.Repeat(string(div), 10) + " " + text + " "
	if n := 70 - len(s); n > 0 {
		s += strings.Repeat(string(div), n)
	}
	return s
}

// formatDuration prints H:MM:SS as Python's timedelta does.
func formatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	return fmt.Sprintf("%d:%02d:%02d", h, m, s)
}
