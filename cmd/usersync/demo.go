package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/usersync/usersync/connectors/umapi/sim"
	"github.com/usersync/usersync/core"
	"github.com/usersync/usersync/core/config"
)

// cmdSim runs the UMAPI simulator (connectors/umapi/sim).
func cmdSim(_ context.Context, e *env, args []string) int {
	return sim.Main(args, e.stdout, e.stderr)
}

// cmdDemo runs everything embedded: a simulator org seeded with the demo
// org, the bundled demo directory, and the console (or a headless sync).
func cmdDemo(ctx context.Context, e *env, args []string) int {
	var headless, keep bool
	var timeScale float64
	var dir string
	fs := newFlagSet(e, "demo", "demo [--headless] [--time-scale N] [--dir DIR]")
	fs.BoolVar(&headless, "headless", false, "run a headless sync and print its log and summary instead of the console")
	fs.Float64Var(&timeScale, "time-scale", 20, "speed up Adobe's rate limits this many times (1: real time)")
	fs.StringVar(&dir, "dir", "", "write the demo configuration, directory and database here (default: a temporary directory)")
	fs.BoolVar(&keep, "keep", false, "keep the temporary directory afterwards")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "usersync-demo-")
		if err != nil {
			return fatal(e, err)
		}
		dir = d
		if !keep {
			defer os.RemoveAll(d)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fatal(e, err)
	}
	const clientID, secret = "demo-client", "demo-secret"
	seed, err := sim.ParseSeed(demoSeed(clientID, secret))
	if err != nil {
		return fatal(e, fmt.Errorf("demo seed: %w", err))
	}
	srv, err := sim.New(sim.Options{Seed: seed, Throttle: "realistic", TimeScale: timeScale})
	if err != nil {
		return fatal(e, err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		return fatal(e, err)
	}
	defer srv.Close()
	cfgPath, err := writeDemo(dir, url, clientID, secret)
	if err != nil {
		return fatal(e, err)
	}
	sf := &config.SyncFlags{ConfigFilename: &cfgPath}
	rf := runFlags{keepRuns: 100, lockWait: defaultLockWait,
		actionRate: core.RateLimit{Requests: core.DefaultRateLimit.Requests, Window: time.Duration(float64(core.DefaultRateLimit.Window) / timeScale)}}
	if headless {
		fmt.Fprintf(e.stderr, "Demo: simulated Adobe org at %s, directory and configuration in %s\n", url, dir)
		p, code := loadPipeline(ctx, e, sf, rf, e.stdout)
		if p == nil {
			return code
		}
		defer p.close()
		code = p.headless(ctx, "sync", nil, planOutput{})
		st := srv.Stats()
		fmt.Fprintf(e.stderr, "Demo: the simulator received %d action requests (%d throttled).\n", st.Requests.Action, st.Throttled)
		return code
	}
	p, code := loadPipeline(ctx, e, sf, rf, nil)
	if p == nil {
		return code
	}
	defer p.close()
	return p.console(ctx, e, "demo ("+dir+")")
}
