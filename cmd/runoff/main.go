// Command runoff is Runoff's one binary:
//
//	runoff web        serve the site (PORT)
//	runoff worker     consume the queues, store and count
//	runoff migrate    apply database migrations (the release phase)
//	runoff tabulate   count a ballot CSV, or an RCTab contest config (see runoff tabulate -h)
//	runoff demo       publish a demo election with a few hundred ballots
//	runoff load       cast ballots over HTTP and measure receipts and counting
//	runoff version    print the module version and VCS revision
//
// All wiring lives here; configuration comes from the environment.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/runoff-vote/runoff"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "runoff:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

const usage = `usage: runoff <command> [arguments]

commands:
  web        serve the site on $PORT (default 8080)
  worker     consume the queues, store elections and ballots, keep the tallies
  migrate    apply database migrations
  tabulate   count a ballot CSV: runoff tabulate [--rules RULES.json] [--format json|table] BALLOTS.csv
             or an RCTab contest config and its CVR files: runoff tabulate --config CONTEST_config.json
  demo       publish a demo election with a few hundred ballots (for development)
  load       cast ballots through HTTP and measure: runoff load --election ID [--ballots N] [--concurrency C]
  version    print the module version and VCS revision this binary was built from
  admin      operator's tasks: runoff admin reset-link EMAIL [--base https://your.site]
             prints a one-time link (an hour) to set a new password

configuration (environment): PORT, DATABASE_URL, CLOUDAMQP_URL or AMQP_URL
(a cluster's nodes comma-separated), WEB_AMQP_URL and WORKER_AMQP_URL (a broker
user for each), SESSION_KEY, LOG_FORMAT (text|json), LOG_LEVEL (debug|info|warn|error)
`

// run is the whole program, callable from tests with its own arguments and
// environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "tabulate":
		return runTabulate(ctx, rest, stdout, stderr)
	case "load":
		return runLoad(ctx, rest, stdout, stderr)
	case "version":
		return runVersion(runoff.Version(), stdout)
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr).With("proc", cmd)
	v := runoff.Version()
	log.Info("starting", "version", v.Version, "revision", v.Revision, "modified", v.Modified)
	switch cmd {
	case "web":
		return runWeb(ctx, cfg, log)
	case "worker":
		return runWorker(ctx, cfg, log)
	case "migrate":
		return runMigrate(ctx, cfg, log)
	case "admin":
		return runAdmin(ctx, cfg, rest, stdout)
	case "demo":
		return runDemo(ctx, cfg, log, stdout)
	default:
		fmt.Fprintf(stderr, "runoff: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
