package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// cliOptions are the flags of `usersync sim`.
type cliOptions struct {
	addr        string
	seedPath    string
	throttle    string
	timeScale   float64
	faults      string
	faultSeed   int64
	faultSeeded bool
	tlsDir      string
	log         bool
}

// parseArgs fills cliOptions from the command line; it is pure so tests
// can call it.
func parseArgs(args []string, stderr io.Writer) (cliOptions, error) {
	var c cliOptions
	fs := pflag.NewFlagSet("usersync sim", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: usersync sim [options]\n\nRun the UMAPI simulator.\n\nOptions:")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address `HOST:PORT` (port 0 picks a free port)")
	fs.StringVar(&c.seedPath, "seed", "", "initial org state, a seed JSON `FILE` (default: an empty org)")
	fs.StringVar(&c.throttle, "throttle", "off", "rate limiting: off or realistic")
	fs.Float64Var(&c.timeScale, "time-scale", 1, "divide every throttle window, Retry-After and token lifetime by `N`")
	fs.StringVar(&c.faults, "faults", "", "injected faults, e.g. `5xx=0.05,reset=0.01,slow=0.02,429=0.02`")
	fs.Int64Var(&c.faultSeed, "fault-seed", 0, "seed for the fault generator, to repeat a run's faults")
	fs.StringVar(&c.tlsDir, "tls-dir", "", "serve HTTPS; write the generated CA certificate to `DIR`/ca.pem")
	fs.BoolVar(&c.log, "log", false, "log every API request on stderr")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.faultSeeded = fs.Changed("fault-seed")
	if c.timeScale <= 0 {
		return c, fmt.Errorf("--time-scale %v: want a positive number", c.timeScale)
	}
	if c.throttle != "off" && c.throttle != "realistic" {
		return c, fmt.Errorf("--throttle %q: want off or realistic", c.throttle)
	}
	if _, err := ParseFaults(c.faults); err != nil {
		return c, fmt.Errorf("--faults: %w", err)
	}
	return c, nil
}

// serverFromFile builds the server for Main. The org is built once from
// the file, and the file's bytes (not the decoded Seed) are kept for
// resets, which keeps a million-user seed's memory down.
func serverFromFile(opts Options, path string) (*Server, error) {
	if path == "" {
		return New(opts)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	_, o, err := decodeSeed(data)
	if err != nil {
		return nil, fmt.Errorf("seed: %s: %w", path, err)
	}
	s, err := newServer(opts, o)
	if err != nil {
		return nil, err
	}
	s.initJSON = data
	debug.FreeOSMemory() // return the decoding garbage before serving
	return s, nil
}

// Main runs `usersync sim`: it prints "listening on <base URL>" as its
// first stdout line and serves until SIGINT or SIGTERM. It returns the
// exit code: 0 after a signal, 1 when it cannot start, 2 on a usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "usersync sim: %v\n", err)
		return 2
	}
	opts := Options{Throttle: c.throttle, TimeScale: c.timeScale, Faults: c.faults,
		FaultSeed: c.faultSeed, TLSDir: c.tlsDir}
	if c.log {
		opts.Log = stderr
	}
	if !c.faultSeeded && c.faults != "" {
		opts.FaultSeed = time.Now().UnixNano()
	}
	s, err := serverFromFile(opts, c.seedPath)
	if err != nil {
		fmt.Fprintf(stderr, "usersync sim: %v\n", err)
		return 1
	}
	url, err := s.Start(c.addr)
	if err != nil {
		fmt.Fprintf(stderr, "usersync sim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)
	org, client, users, groups := s.summary()
	fmt.Fprintf(stderr, "usersync sim: org %s, client id %s, %d users, %d groups, throttle %s, time scale %g\n",
		org, client, users, groups, c.throttle, c.timeScale)
	if c.faults != "" {
		fmt.Fprintf(stderr, "usersync sim: faults %s with --fault-seed %d\n", c.faults, opts.FaultSeed)
	}
	if c.tlsDir != "" {
		fmt.Fprintf(stderr, "usersync sim: CA certificate written to %s/ca.pem\n", c.tlsDir)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "usersync sim: stopping")
	if err := s.Close(); err != nil {
		fmt.Fprintf(stderr, "usersync sim: %v\n", err)
		return 1
	}
	return 0
}
