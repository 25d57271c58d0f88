package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/usersync/usersync/connectors/adobeconsole"
	"github.com/usersync/usersync/connectors/csv"
	"github.com/usersync/usersync/connectors/entra"
	"github.com/usersync/usersync/connectors/google"
	"github.com/usersync/usersync/connectors/ldap"
	"github.com/usersync/usersync/connectors/okta"
	"github.com/usersync/usersync/connectors/secrets"
	"github.com/usersync/usersync/connectors/umapi"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
	"github.com/usersync/usersync/core/hook"
	"github.com/usersync/usersync/store"
)

// runFlags are usersync's own flags, beside UST's sync flags.
type runFlags struct {
	db          string
	json        bool
	keepRuns    int
	secretsFile string
	lockWait    time.Duration
	// actionRate paces action requests; zero means Adobe's documented
	// limit. The demo speeds it up together with its simulator.
	actionRate core.RateLimit
}

func (f *runFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "the database (default: usersync.db beside the config file, or $USERSYNC_DB)")
	fs.BoolVar(&f.json, "json", false, "print one JSON event per line on stdout instead of log lines")
	fs.IntVar(&f.keepRuns, "keep-runs", 100, "keep this many runs in the database (0: all)")
	fs.StringVar(&f.secretsFile, "secrets-file", "", "a YAML secrets file for servers without a keyring (default $USERSYNC_SECRETS_FILE)")
	fs.DurationVar(&f.lockWait, "lock-wait", defaultLockWait, "how long to wait for another usersync to release the database")
	fs.Var(&rateValue{&f.actionRate}, "action-rate", "pace action requests to N per DURATION, e.g. 10/1m (Adobe's limit, the default); raise it only against a simulator run with --time-scale")
}

// rateValue parses --action-rate N/DURATION.
type rateValue struct{ r *core.RateLimit }

func (v *rateValue) String() string {
	if v.r == nil || v.r.Requests == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%s", v.r.Requests, v.r.Window)
}

func (v *rateValue) Set(s string) error {
	n, d, ok := strings.Cut(s, "/")
	var r core.RateLimit
	if _, err := fmt.Sscan(n, &r.Requests); !ok || err != nil || r.Requests <= 0 {
		return fmt.Errorf("want N/DURATION, e.g. 10/1m")
	}
	w, err := time.ParseDuration(d)
	if err != nil || w <= 0 {
		return fmt.Errorf("want N/DURATION, e.g. 10/1m")
	}
	r.Window = w
	*v.r = r
	return nil
}

func (v *rateValue) Type() string { return "rate" }

// pipeline is one loaded configuration with its connectors: what every
// command that talks to both sides shares (headless and console alike).
type pipeline struct {
	e       *env
	cfg     *config.Config
	opts    *core.Options
	log     *slog.Logger
	source  core.Source
	targets map[string]core.Target
	rf      runFlags
	// loadOpts are the options the configuration was loaded with: the
	// console's mapping edits validate the edited file with them.
	loadOpts config.LoadOptions
	logFile  *os.File
	started  time.Time
	// db is the database a headless run writes its record to; finish
	// closes it, since closing reports a write that failed.
	db *store.DB
}

// newPipeline loads the configuration named by sf and builds the
// connectors. Errors are configuration errors (exit 1) or usage errors.
func newPipeline(ctx context.Context, e *env, sf *config.SyncFlags, rf runFlags, console io.Writer) (*pipeline, error) {
	p := &pipeline{e: e, rf: rf, started: time.Now()}
	limitMemory(e.getenv)
	consoleLevel := new(slog.LevelVar)
	fileLevel := new(slog.LevelVar)
	fileLevel.Set(slog.Level(100)) // off until the config says otherwise
	var fileW io.Writer = io.Discard
	sinks := []sink{{&lazyWriter{w: &fileW}, fileLevel}}
	if console != nil {
		sinks = append(sinks, sink{console, consoleLevel})
	}
	p.log = slog.New(newUSTHandler(sinks...))

	if err := checkSecretsFile(e, rf.secretsFile); err != nil {
		return nil, err
	}
	sec := secrets.Default(rf.secretsFile)
	p.loadOpts = config.LoadOptions{
		Secrets: sec,
		Flags:   sf,
		CompileHook: func(file string, line int, src string) (core.Hook, error) {
			return hook.Compile(file, line, src, named(p.log, "extension"))
		},
	}
	cfg, err := config.LoadContext(ctx, sf.ConfigPath(), p.loadOpts)
	if err != nil {
		return nil, err
	}
	p.cfg = cfg
	if l, ok := parseLevel(cfg.Logging.ConsoleLogLevel); ok {
		consoleLevel.Set(l)
	}
	if cfg.Logging.LogToFile {
		f, err := openLogFile(cfg.Logging.FileLogDirectory, cfg.Logging.FileName(p.started))
		if err != nil {
			return nil, err
		}
		p.logFile = f
		fileW = f
		if l, ok := parseLevel(cfg.Logging.FileLogLevel); ok {
			fileLevel.Set(l)
		}
	}
	for _, w := range cfg.Warnings {
		named(p.log, "config").Warn(w)
	}
	for _, n := range cfg.Invocation.Notes {
		named(p.log, "config").Info(n)
	}
	opts := cfg.Options
	opts.DebugNotes = p.log.Enabled(context.Background(), slog.LevelDebug)
	p.opts = &opts

	if f := cfg.Invocation.AdobeOnlyListFile; f != "" {
		list, warns, err := csv.ReadAdobeOnlyList(f, core.PrimaryOrg)
		for _, w := range warns {
			named(p.log, "csv").Warn(w)
		}
		if err != nil {
			return nil, err
		}
		if list == nil {
			list = []core.Stray{}
		}
		p.opts.AdobeOnlyList = list
	} else if p.source, err = p.buildSource(ctx, sec); err != nil {
		return nil, err
	}
	p.targets = map[string]core.Target{}
	for org, u := range cfg.UMAPI {
		t, err := p.buildTarget(u)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u.File, err)
		}
		p.targets[org] = t
	}
	return p, nil
}

// checkSecretsFile refuses a named secrets file that is missing or that
// others may read, before any secret is looked up: the lookup chain would
// otherwise fall through to the environment or the keyring and the run
// would go on without a word about the exposed file.
func checkSecretsFile(e *env, flagFile string) error {
	path := flagFile
	if path == "" {
		path = e.getenv("USERSYNC_SECRETS_FILE")
	}
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		// Not wrapped: a missing secrets file is not a missing
		// configuration, which loadPipeline answers with "how to start".
		return fmt.Errorf("secrets file %s (--secrets-file or USERSYNC_SECRETS_FILE): %v", path, errors.Unwrap(err))
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("secrets file %s can be read by others (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

// lazyWriter lets the log handler be built before the log file is known.
type lazyWriter struct{ w *io.Writer }

func (l *lazyWriter) Write(b []byte) (int, error) { return (*l.w).Write(b) }

func (p *pipeline) close() {
	if p.logFile != nil {
		p.logFile.Close()
	}
}

func (p *pipeline) buildSource(ctx context.Context, sec config.Secrets) (core.Source, error) {
	inv := p.cfg.Invocation
	node := p.cfg.DirectoryConnectors[inv.Connector]
	switch inv.Connector {
	case "csv":
		c, err := csv.ParseConfig(node)
		if err != nil {
			return nil, err
		}
		if inv.UsersFile != "" {
			c.FilePath = inv.UsersFile
		}
		if c.FilePath == "" {
			return nil, fmt.Errorf("the csv connector needs a users file: --connector csv FILE or --users file FILE")
		}
		if c.IdentityType == "" {
			c.IdentityType = p.opts.DefaultIdentityType
		}
		c.Logger = named(p.log, loggerName(c.LoggerName, "csv"))
		return csv.New(c), nil
	case "ldap":
		if node == nil {
			return nil, fmt.Errorf("directory_users.connectors.ldap: the ldap connector needs a connector-ldap.yml")
		}
		c, err := ldap.ParseConfig(ctx, node, sec)
		if err != nil {
			return nil, err
		}
		if c.UserIdentityType == "" {
			c.UserIdentityType = p.opts.DefaultIdentityType
		}
		return ldap.New(c, named(p.log, loggerName(c.LoggerName, "ldap"))), nil
	case "okta":
		if node == nil {
			return nil, fmt.Errorf("directory_users.connectors.okta: the okta connector needs a connector-okta.yml")
		}
		c, err := okta.ParseConfig(ctx, node, sec)
		if err != nil {
			return nil, err
		}
		if c.UserIdentityType == "" {
			c.UserIdentityType = p.opts.DefaultIdentityType
		}
		return okta.New(c, named(p.log, loggerName(c.LoggerName, "okta"))), nil
	case "google":
		if node == nil {
			return nil, fmt.Errorf("directory_users.connectors.google: the google connector needs a connector-google.yml")
		}
		c, err := google.ParseConfig(ctx, node)
		if err != nil {
			return nil, err
		}
		if c.UserIdentityType == "" {
			c.UserIdentityType = p.opts.DefaultIdentityType
		}
		return google.New(c, named(p.log, loggerName(c.LoggerName, "google"))), nil
	case "entra":
		if node == nil {
			return nil, fmt.Errorf("directory_users.connectors.entra: the entra connector needs a connector-entra.yml")
		}
		c, err := entra.ParseConfig(ctx, node, sec)
		if err != nil {
			return nil, err
		}
		if c.UserIdentityType == "" {
			c.UserIdentityType = p.opts.DefaultIdentityType
		}
		return entra.New(c, named(p.log, loggerName(c.LoggerName, "entra"))), nil
	case "adobe_console":
		if node == nil {
			return nil, fmt.Errorf("directory_users.connectors.adobe_console: the adobe_console connector needs a connector-adobe-console.yml")
		}
		c, err := adobeconsole.ParseConfig(ctx, node, sec)
		if err != nil {
			return nil, err
		}
		// The console source only reads; it never runs in test mode.
		t, err := p.buildTarget(&config.UMAPIConfig{Name: "adobe_console", File: c.File, OrgID: c.OrgID,
			ClientID: c.ClientID.Reveal(), ClientSecret: c.ClientSecret.Reveal(), Host: c.Host, Endpoint: c.Endpoint,
			AuthHost: c.AuthHost, AuthEndpoint: c.AuthEndpoint, Timeout: c.Timeout, Retries: c.Attempts(),
			// invocation_defaults.ssl_cert_verify covers every UMAPI connection (UST §1.2).
			SSLVerify: c.SSLVerify && p.cfg.Invocation.SSLCertVerify})
		if err != nil {
			return nil, err
		}
		return adobeconsole.New(c, t, named(p.log, "connector")), nil
	}
	return nil, fmt.Errorf("unknown connector %q (ldap, okta, entra, google, adobe_console or csv)", inv.Connector)
}

func (p *pipeline) buildTarget(u *config.UMAPIConfig) (*umapi.Client, error) {
	// Over plain HTTP (a simulator on loopback) there is no certificate
	// to verify, so the setting changes nothing worth a warning.
	if !u.SSLVerify && !strings.HasPrefix(strings.ToLower(u.Host), "http://") {
		named(p.log, "config").Warn(fmt.Sprintf("TLS certificate verification is off for %s (ssl_verify: False)", u.Host))
	}
	return umapi.New(umapi.Options{
		Name:         u.Name,
		Host:         u.Host,
		Endpoint:     u.Endpoint,
		AuthHost:     u.AuthHost,
		AuthEndpoint: u.AuthEndpoint,
		OrgID:        u.OrgID,
		ClientID:     u.ClientID,
		ClientSecret: u.ClientSecret,
		Timeout:      u.Timeout,
		Retries:      u.Retries,
		SSLVerify:    u.SSLVerify,
		CABundle:     caBundle(p.e),
		UserAgent:    "usersync/" + Version,
		ActionRate:   p.rf.actionRate,
		Logger:       named(p.log, "umapi_client.connection"),
	})
}

// loggerName is a connector's logger_name setting, or its default.
func loggerName(configured, def string) string {
	if configured != "" {
		return configured
	}
	return def
}

// caBundle is SSL_CERT_FILE or UST's REQUESTS_CA_BUNDLE.
func caBundle(e *env) string {
	if v := e.getenv("SSL_CERT_FILE"); v != "" {
		return v
	}
	return e.getenv("REQUESTS_CA_BUNDLE")
}

// openDB opens the run database with the lock.
func (p *pipeline) openDB() (*store.DB, error) {
	return store.Open(dbPath(p.e, p.rf.db, p.cfg.File), store.Options{Timeout: p.rf.lockWait})
}

// optionText records the run's resolved options in the history (never
// secrets: only flags and file names).
func (p *pipeline) optionText() map[string]string {
	o := p.opts
	m := map[string]string{
		"config":           p.cfg.File,
		"connector":        p.cfg.Invocation.Connector,
		"strategy":         string(o.Strategy),
		"users":            strings.TrimSpace(string(o.Users) + " " + strings.Join(o.UsersGroups, ",")),
		"adobe_users":      strings.TrimSpace(string(o.AdobeUsers) + " " + strings.Join(o.AdobeUsersGroups, ",")),
		"process_groups":   fmt.Sprint(o.ProcessGroups),
		"update_user_info": fmt.Sprint(o.UpdateUserInfo),
		"adobe_only":       strings.TrimSpace(string(o.AdobeOnlyAction) + " " + o.AdobeOnlyFile),
		"test_mode":        fmt.Sprint(o.TestMode),
	}
	if o.UserFilter != nil {
		m["user_filter"] = o.UserFilter.String()
	}
	return m
}

// defaultLockWait is how long a command waits for the database lock.
const defaultLockWait = time.Second
