package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/project"
	"github.com/devstack-dev/devstack/session"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "explain every proxy-trust misconfiguration, with its fix",
		UsageText: "devstack doctor [--dir DIR] [--json] [--strict] [--python PATH]",
		Description: "Starts the project's stack on free ports for a moment (the HTTPS proxy in front\n" +
			"of the app's own gateway server and settings), asks the app what it sees, and\n" +
			"checks its proxy-trust settings. Exit status: 0 no failure (warnings allowed\n" +
			"unless --strict), 1 failures, 2 the checks could not run.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "the project directory"},
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.BoolFlag{Name: "strict", Usage: "warnings fail too"},
			&cli.StringFlag{Name: "python", Usage: "the Python interpreter that runs the app"},
			&cli.StringFlag{Name: "app", Usage: `the app to serve, "pkg.module:callable"`},
		},
		Action: func(c *cli.Context) error {
			report, err := session.Doctor(c.Context, c.String("dir"), session.Options{
				Flags:  project.Overrides{Python: c.String("python"), App: c.String("app"), Command: c.Args().Slice()},
				Notify: func(n session.Notice) { printNotice(c.App.ErrWriter, n) },
			})
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if c.Bool("json") {
				err = printDoctorJSON(c.App.Writer, report)
			} else {
				printDoctor(c.App.Writer, report)
			}
			if err != nil {
				return exitError{code: 2, err: err}
			}
			fails, warns, _ := report.Counts()
			if fails > 0 || (c.Bool("strict") && warns > 0) {
				return exitError{code: 1}
			}
			return nil
		},
	}
}

var statusWords = map[doctor.Status]string{doctor.Pass: "PASS", doctor.Warn: "WARN", doctor.Fail: "FAIL"}

// printDoctor writes the results for a person: failures first, then
// warnings, then passes, each with its evidence and fix.
func printDoctor(w io.Writer, report session.Report) {
	about, results := report.About, report.Checks
	fmt.Fprintf(w, "devstack doctor: %s under %s in %s, through %s (%s)\n\n", about.Framework, about.Server, about.Dir, about.Origin, about.Via)
	for _, want := range []doctor.Status{doctor.Fail, doctor.Warn, doctor.Pass} {
		for _, r := range results {
			if r.Status != want {
				continue
			}
			fmt.Fprintf(w, "%s  %-22s %s\n", statusWords[r.Status], r.ID, r.Summary)
			if r.Status != doctor.Pass && r.Detail != "" {
				fmt.Fprintf(w, "      %s\n", r.Detail)
			}
			if r.Fix != "" {
				fmt.Fprintf(w, "      fix: %s\n", r.Fix)
			}
		}
	}
	fails, warns, passes := doctor.Counts(results)
	fmt.Fprintf(w, "\n%d failed, %d warnings, %d passed\n", fails, warns, passes)
}

func printDoctorJSON(w io.Writer, report session.Report) error {
	fails, warns, passes := report.Counts()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		session.Report
		Summary map[string]int `json:"summary"`
	}{report, map[string]int{"fail": fails, "warn": warns, "pass": passes}})
	if err != nil {
		return errors.New("writing the JSON report: " + err.Error())
	}
	return nil
}
