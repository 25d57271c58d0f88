package csv

import (
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// Columns are the header names of the users file's recognised columns.
type Columns struct {
	Email, Firstname, Lastname, Country, Groups, Type, Username, Domain string
}

// DefaultColumns are UST's column names.
var DefaultColumns = Columns{
	Email: "email", Firstname: "firstname", Lastname: "lastname", Country: "country",
	Groups: "groups", Type: "type", Username: "username", Domain: "domain",
}

// Config is connector-csv.yml, plus the path given on the command line.
type Config struct {
	// FilePath is the users file. The path of --connector csv PATH or
	// --users file PATH overrides file_path; relative paths are relative to
	// the working directory, as in UST.
	FilePath string
	// Delimiter is the field separator; 0 picks it from the file's
	// extension: comma for .csv, tab for anything else (UST's rule).
	Delimiter rune
	// Encoding is the file's text encoding (config.Decode's names); ""
	// means UTF-8, with or without a byte-order mark.
	Encoding string
	Columns  Columns
	// IdentityType is the type of users whose type cell is empty; "" leaves
	// them to the main configuration's user_identity_type.
	IdentityType core.IdentityType
	// LoggerName is UST's logger_name. The caller names Logger with it
	// (log.With("logger", cfg.LoggerName)); New does not, so that a logger
	// already named is not named twice.
	LoggerName string
	// Logger receives warnings about skipped rows; nil discards them.
	Logger *slog.Logger
}

// configKeys are every key connector-csv.yml may hold.
var configKeys = []string{
	"file_path", "delimiter", "string_encoding", "file_encoding",
	"email_column_name", "first_name_column_name", "last_name_column_name", "country_column_name",
	"groups_column_name", "identity_type_column_name", "username_column_name", "domain_column_name",
	"user_identity_type", "logger_name",
}

// ParseConfig reads connector-csv.yml (UST §2.6). A nil node gives the
// defaults. Unknown keys, a delimiter that is not one character and an
// invalid identity type are errors naming the file, key and line.
func ParseConfig(n *config.Node) (Config, error) {
	cfg := Config{Columns: DefaultColumns, LoggerName: "csv"}
	if n == nil {
		return cfg, nil
	}
	if err := n.CheckKeys(configKeys...); err != nil {
		return Config{}, err
	}
	var err error
	str := func(key string, dst *string) {
		if err == nil {
			*dst, err = n.String(key, *dst)
		}
	}
	str("file_path", &cfg.FilePath)
	if err == nil {
		if err = config.CheckFileName(cfg.FilePath); err != nil {
			err = n.Get("file_path").Errorf("%v", err)
		}
	}
	var delim string
	str("delimiter", &delim)
	// string_encoding is UST's key; file_encoding is accepted as an alias
	// because UST's own manual and examples use both names.
	str("string_encoding", &cfg.Encoding)
	if n.Has("file_encoding") {
		if n.Has("string_encoding") && err == nil {
			err = n.Get("file_encoding").Errorf("give string_encoding or file_encoding, not both")
		}
		str("file_encoding", &cfg.Encoding)
	}
	c := &cfg.Columns
	for _, col := range []struct {
		key string
		dst *string
	}{
		{"email_column_name", &c.Email}, {"first_name_column_name", &c.Firstname},
		{"last_name_column_name", &c.Lastname}, {"country_column_name", &c.Country},
		{"groups_column_name", &c.Groups}, {"identity_type_column_name", &c.Type},
		{"username_column_name", &c.Username}, {"domain_column_name", &c.Domain},
	} {
		str(col.key, col.dst)
		if err == nil && *col.dst == "" {
			err = n.Get(col.key).Errorf("must not be empty")
		}
	}
	var typ string
	str("user_identity_type", &typ)
	str("logger_name", &cfg.LoggerName)
	if err != nil {
		return Config{}, err
	}
	if delim != "" {
		r, perr := parseDelimiter(delim)
		if perr != nil {
			return Config{}, n.Get("delimiter").Errorf("%v", perr)
		}
		cfg.Delimiter = r
	}
	if cfg.Encoding != "" {
		if _, derr := config.Decode(nil, cfg.Encoding); derr != nil {
			key := "string_encoding"
			if n.Has("file_encoding") {
				key = "file_encoding"
			}
			return Config{}, n.Get(key).Errorf("%v", derr)
		}
	}
	if typ != "" {
		t, terr := core.ParseIdentityType(typ)
		if terr != nil {
			return Config{}, n.Get("user_identity_type").Errorf("%v", terr)
		}
		cfg.IdentityType = t
	}
	return cfg, nil
}

func parseDelimiter(s string) (rune, error) {
	if s == `\t` { // written unescaped in a single-quoted or plain YAML scalar
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
		return 0, fmt.Errorf(`must be a single character such as "," or "\t", not %q`, s)
	}
	return r, nil
}
