package config

import (
	"fmt"
	"strings"
	"time"
)

// Logging is the logging section of the main file (UST §2.3).
type Logging struct {
	LogToFile bool
	// FileLogDirectory is absolute; by default "logs" beside the main file.
	FileLogDirectory string
	// FileLogNameFormat is UST's Python format of the start time, e.g.
	// "{:%Y-%m-%d}.log"; FileName renders it.
	FileLogNameFormat string
	// FileLogLevel and ConsoleLogLevel are debug, info, warning, error or
	// critical.
	FileLogLevel    string
	ConsoleLogLevel string
	LogProgress     bool
}

// The logging defaults.
const (
	DefaultLogDirectory  = "logs"
	DefaultLogNameFormat = "{:%Y-%m-%d}.log"
	DefaultLogLevel      = "info"
)

var logLevels = map[string]bool{"debug": true, "info": true, "warning": true, "error": true, "critical": true}

func (c *Config) logging(root *Node) error {
	c.Logging = Logging{FileLogNameFormat: DefaultLogNameFormat, FileLogLevel: DefaultLogLevel,
		ConsoleLogLevel: DefaultLogLevel, LogProgress: true}
	l, err := root.Map("logging")
	if err != nil {
		return err
	}
	if l == nil {
		l = &Node{File: root.File, Path: "logging", y: emptyMap(), used: root.used}
	}
	if c.Logging.LogToFile, err = l.Bool("log_to_file", false); err != nil {
		return err
	}
	dir, err := l.String("file_log_directory", "")
	if err != nil {
		return err
	}
	if strings.TrimSpace(dir) == "" {
		dir = DefaultLogDirectory
	}
	c.Logging.FileLogDirectory = root.ResolvePath(dir)
	if f, err := l.String("file_log_name_format", ""); err != nil {
		return err
	} else if f != "" {
		if _, err := FormatLogName(f, time.Time{}); err != nil {
			return l.Get("file_log_name_format").Errorf("%v", err)
		}
		c.Logging.FileLogNameFormat = f
	}
	for _, lv := range []struct {
		key string
		dst *string
	}{{"file_log_level", &c.Logging.FileLogLevel}, {"console_log_level", &c.Logging.ConsoleLogLevel}} {
		s, err := l.String(lv.key, "")
		if err != nil {
			return err
		}
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "":
		case logLevels[s]:
			*lv.dst = s
		default:
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: logging.%s: unknown level %q, using info", where(l.Get(lv.key)), lv.key, s))
		}
	}
	c.Logging.LogProgress, err = l.Bool("log_progress", true)
	return err
}

// FileName is the log file name for a run started at t.
func (l Logging) FileName(t time.Time) string {
	s, err := FormatLogName(l.FileLogNameFormat, t)
	if err != nil {
		s, _ = FormatLogName(DefaultLogNameFormat, t)
	}
	return s
}

// FormatLogName renders UST's file_log_name_format, a Python format string
// whose "{:...}" fields hold strftime codes applied to t ("{:%Y-%m-%d}.log"
// gives "2026-11-22.log"). "{{" and "}}" are literal braces.
func FormatLogName(format string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		ch := format[i]
		switch {
		case ch == '{' && strings.HasPrefix(format[i:], "{{"):
			b.WriteByte('{')
			i++
		case ch == '}' && strings.HasPrefix(format[i:], "}}"):
			b.WriteByte('}')
			i++
		case ch == '{':
			end := strings.IndexByte(format[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("%q: unclosed {", format)
			}
			field := format[i+1 : i+end]
			i += end
			spec, ok := strings.CutPrefix(strings.TrimPrefix(field, "0"), ":")
			if !ok && field != "" && field != "0" {
				return "", fmt.Errorf("%q: only the start time ({:%%Y-%%m-%%d}) can be formatted", format)
			}
			s, err := strftime(spec, t)
			if err != nil {
				return "", fmt.Errorf("%q: %v", format, err)
			}
			b.WriteString(s)
		case ch == '}':
			return "", fmt.Errorf("%q: single }", format)
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), nil
}

func strftime(spec string, t time.Time) (string, error) {
	if spec == "" {
		return t.Format("2006-01-02 15:04:05"), nil
	}
	var b strings.Builder
	for i := 0; i < len(spec); i++ {
		if spec[i] != '%' || i+1 == len(spec) {
			b.WriteByte(spec[i])
			continue
		}
		i++
		switch spec[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'B':
			b.WriteString(t.Format("January"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 'A':
			b.WriteString(t.Format("Monday"))
		case '%':
			b.WriteByte('%')
		default:
			return "", fmt.Errorf("unsupported time code %%%c", spec[i])
		}
	}
	return b.String(), nil
}
