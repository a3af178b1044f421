package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/devstack-dev/devstack/doctor"
	"github.com/devstack-dev/devstack/session"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "explain every proxy-trust misconfiguration, with its fix",
		UsageText: "devstack doctor [--dir DIR] [--json] [--strict] [--all] [--settings MODULE] [--python PATH]",
		Description: "Starts the project's stack on free ports for a moment (the HTTPS proxy in front\n" +
			"of the app's own gateway server and settings), asks the app what it sees, and\n" +
			"checks its proxy-trust settings. Exit status: 0 no failure (warnings allowed\n" +
			"unless --strict), 1 failures, 2 the checks (or some of them) could not run.",
		Flags: append(projectFlags(),
			&cli.BoolFlag{Name: "json", Usage: "print the results as JSON"},
			&cli.BoolFlag{Name: "strict", Usage: "warnings fail too"},
			&cli.BoolFlag{Name: "all", Usage: "also show hardening advice (info)"},
			&cli.StringFlag{Name: "settings", Usage: "check this Django settings module (production's, say) behind the proxy, for this run only"},
		),
		Action: func(c *cli.Context) error {
			report, err := session.Doctor(c.Context, c.String("dir"), session.Options{
				Flags:    projectOverrides(c),
				Notify:   noticesTo(c.App.ErrWriter),
				Settings: c.String("settings"),
			})
			if err != nil {
				return exitError{code: 2, err: err}
			}
			if c.Bool("json") {
				err = printDoctorJSON(c.App.Writer, report, c.Bool("all"))
			} else {
				printDoctor(c.App.Writer, report, c.Bool("all"))
			}
			if err != nil {
				return exitError{code: 2, err: err}
			}
			return doctorExit(doctor.Tally(report.Checks), c.Bool("strict"))
		},
	}
}

var statusWords = map[doctor.Status]string{doctor.Pass: "PASS", doctor.Info: "INFO", doctor.Warn: "WARN",
	doctor.Fail: "FAIL", doctor.NotRun: "SKIP"}

// doctorExit is the exit status for the results: 1 when a check failed
// (or, with strict, warned), 2 when a check could not run, else 0.
func doctorExit(t map[doctor.Status]int, strict bool) error {
	switch {
	case t[doctor.Fail] > 0:
		return exitError{code: 1}
	case t[doctor.NotRun] > 0:
		return exitError{code: 2}
	case strict && t[doctor.Warn] > 0:
		return exitError{code: 1}
	}
	return nil
}

// printDoctor writes the results for a person: failures first, then
// those that could not run, warnings, advice (with all) and passes, each
// with its evidence, the place of its setting and its fix.
func printDoctor(w io.Writer, report session.Report, all bool) {
	about, results := report.About, report.Checks
	fmt.Fprintf(w, "devstack doctor: %s under %s in %s, through %s (%s)\n", about.Framework, about.Server, about.Dir, about.Origin, about.Via)
	if about.Settings != "" {
		fmt.Fprintf(w, "settings: %s\n", about.Settings)
	}
	if len(about.Placeholders) > 0 {
		fmt.Fprintf(w, "placeholders: %s (the settings read them and only production sets them; checks ran with stand-ins)\n",
			strings.Join(about.Placeholders, ", "))
	}
	fmt.Fprintln(w)
	var said doctor.Result // the last explained: a run of checks that could not run for one reason says it once
	shown := doctor.Shown(results, all)
	for _, want := range doctor.Statuses {
		for _, r := range shown {
			if r.Status != want {
				continue
			}
			fmt.Fprintf(w, "%s  %-22s %s\n", statusWords[r.Status], r.ID, r.Summary)
			if r.Status == doctor.Pass || (r.Status == doctor.NotRun && r.Summary == said.Summary && r.Fix == said.Fix) {
				continue
			}
			said = r
			if r.Detail != "" {
				fmt.Fprintf(w, "      %s\n", r.Detail)
			}
			if r.Where != "" {
				place := r.Where
				if r.Module != "" && r.Module != about.Settings {
					place += " (" + r.Module + ")"
				}
				fmt.Fprintf(w, "      at: %s\n", place)
			}
			if r.Fix != "" {
				fmt.Fprintf(w, "      fix: %s\n", r.Fix)
			}
		}
	}
	t := doctor.Tally(results)
	fmt.Fprintf(w, "\n%d failed, %d warnings, %d passed", t[doctor.Fail], t[doctor.Warn], t[doctor.Pass])
	if t[doctor.NotRun] > 0 {
		fmt.Fprintf(w, ", %d could not run", t[doctor.NotRun])
	}
	if t[doctor.Info] > 0 {
		if all {
			fmt.Fprintf(w, ", %d advice", t[doctor.Info])
		} else {
			fmt.Fprintf(w, ", %d advice (devstack doctor --all shows it)", t[doctor.Info])
		}
	}
	fmt.Fprintln(w)
}

// printDoctorJSON writes the report for scripts: the checks shown (advice
// only with all) and the count of every status.
func printDoctorJSON(w io.Writer, report session.Report, all bool) error {
	summary := map[string]int{}
	for s, n := range doctor.Tally(report.Checks) {
		summary[string(s)] = n
	}
	shown := report
	shown.Checks = doctor.Shown(report.Checks, all)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		session.Report
		Summary map[string]int `json:"summary"`
	}{shown, summary})
	if err != nil {
		return fmt.Errorf("writing the JSON report: %w", err)
	}
	return nil
}
