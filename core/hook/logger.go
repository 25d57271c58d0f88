package hook

import (
	"fmt"
	"log/slog"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// loggerValue is the hook's logger variable: an object with the methods of
// a Python logging.Logger that hooks use. Like Python's, a message with
// arguments is formatted with the % operator.
type loggerValue struct{ emit func(logRecord) }

// logRecord is one message of the hook, with the hook's line.
type logRecord struct {
	level slog.Level
	msg   string
	line  int32
}

var _ starlark.HasAttrs = (*loggerValue)(nil)

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warning": slog.LevelWarn, "warn": slog.LevelWarn,
	"error": slog.LevelError, "exception": slog.LevelError, "critical": slog.LevelError + 4,
}

func (l *loggerValue) String() string        { return "<logger>" }
func (l *loggerValue) Type() string          { return "logger" }
func (l *loggerValue) Freeze()               {}
func (l *loggerValue) Truth() starlark.Bool  { return starlark.True }
func (l *loggerValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: logger") }

func (l *loggerValue) AttrNames() []string {
	return []string{"critical", "debug", "error", "exception", "info", "warn", "warning"}
}

func (l *loggerValue) Attr(name string) (starlark.Value, error) {
	level, ok := logLevels[name]
	if !ok {
		return nil, nil
	}
	return starlark.NewBuiltin("logger."+name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("%s: missing message", b.Name())
		}
		var msg string
		if s, ok := args[0].(starlark.String); ok {
			msg = string(s)
			if len(args) > 1 {
				v, err := starlark.Binary(syntax.PERCENT, s, args[1:])
				if err != nil {
					return nil, fmt.Errorf("%s: formatting the message: %v", b.Name(), err)
				}
				msg = string(v.(starlark.String))
			}
		} else {
			msg = args[0].String()
		}
		r := logRecord{level: level, msg: msg}
		if fr := thread.CallFrame(1); fr.Pos.IsValid() {
			r.line = fr.Pos.Line
		}
		l.emit(r)
		return starlark.None, nil
	}), nil
}
