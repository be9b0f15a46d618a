// Command portrait runs the Portrait profile-image service and its
// maintenance tasks. Run `portrait --help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "portrait:", err)
		os.Exit(1)
	}
}

const usage = `Usage: portrait <command> [flags]

Commands:
  serve     run the HTTP service
  migrate   apply database migrations and exit
  gc        delete orphaned images and retry pending deletions, then exit
  load      drive uploads against a running server and report throughput and latency
  link      link an identity provider's user to a Portrait user, or remove the link

Every flag can also be set through an environment variable: --data-dir is
PORTRAIT_DATA_DIR, and so on. Run 'portrait <command> --help' for its flags.
`

// run is the whole program: main only wires it to the process. It returns
// flag.ErrHelp after printing help.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp(stdout)
		return flag.ErrHelp
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, rest, getenv, stdout, stderr)
	case "gc":
		return gc(ctx, rest, getenv, stdout, stderr)
	case "load":
		return load(ctx, rest, getenv, stdout, stderr)
	case "link":
		return link(ctx, rest, getenv, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// printHelp prints the commands.
func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
}
