package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/devstack-dev/devstack/certs"
	"github.com/devstack-dev/devstack/internal/hint"
	"github.com/urfave/cli/v2"
)

func caCommand() *cli.Command {
	return &cli.Command{
		Name:  "ca",
		Usage: "the local certificate authority: path, status, install, uninstall",
		Description: "devstack uses mkcert's CA directory ($CAROOT, else mkcert's default) and files,\n" +
			"so a CA made by either tool works for both. TRUST_STORES=system,nss,java limits\n" +
			"the trust stores that status, install and uninstall look at.",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError{fmt.Errorf("unknown ca subcommand %q (want path, status, install or uninstall)", c.Args().First())}
			}
			return cli.ShowSubcommandHelp(c)
		},
		Subcommands: []*cli.Command{
			{
				Name:   "path",
				Usage:  "print the CA directory",
				Action: noArgs(caPath),
			},
			{
				Name:   "status",
				Usage:  "show the CA and whether each trust store trusts it (never creates a CA)",
				Action: noArgs(caStatus),
			},
			{
				Name:   "install",
				Usage:  "create the CA if there is none and add it to the system and NSS (Firefox/Chromium) trust stores",
				Action: noArgs(caInstall),
			},
			{
				Name:   "uninstall",
				Usage:  "remove the CA from the trust stores (the CA files are kept)",
				Action: noArgs(caUninstall),
			},
		},
	}
}

func noArgs(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Present() {
			return usageError{fmt.Errorf("%q takes no arguments", "devstack ca "+c.Command.Name)}
		}
		return action(c)
	}
}

func caPath(c *cli.Context) error {
	dir, err := certs.Dir()
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, dir)
	return nil
}

func caStatus(c *cli.Context) error {
	ca, err := loadCA()
	if err != nil {
		return err
	}
	w := c.App.Writer
	printCA(w, ca)
	results, err := certs.Status(ca)
	if err != nil {
		return err
	}
	printResults(w, results)
	return nil
}

func caInstall(c *cli.Context) error {
	dir, err := certs.Dir()
	if err != nil {
		return err
	}
	ca, created, err := certs.LoadOrCreate(dir)
	if err != nil {
		return err
	}
	w := c.App.Writer
	if created {
		fmt.Fprintf(w, "created a new local CA in %s\n", dir)
	}
	printCA(w, ca)
	results, err := certs.Install(ca)
	printResults(w, results)
	return err
}

func caUninstall(c *cli.Context) error {
	ca, err := loadCA()
	if err != nil {
		return err
	}
	w := c.App.Writer
	printCA(w, ca)
	results, err := certs.Uninstall(ca)
	printResults(w, results)
	return err
}

// loadCA loads the CA without ever minting one.
func loadCA() (*certs.CA, error) {
	dir, err := certs.Dir()
	if err != nil {
		return nil, err
	}
	ca, err := certs.Load(dir)
	if errors.Is(err, certs.ErrNoCA) {
		return nil, hint.Wrap(fmt.Errorf("no local CA in %s", dir), `run "devstack ca install" to create one and trust it`)
	}
	return ca, err
}

func printCA(w io.Writer, ca *certs.CA) {
	fmt.Fprintf(w, "CA:       %s\n", ca.CertPath())
	fmt.Fprintf(w, "subject:  %s\n", ca.Cert.Subject)
	fmt.Fprintf(w, "SHA-256:  %s\n", ca.Fingerprint())
	days := int(time.Until(ca.Cert.NotAfter).Hours() / 24)
	fmt.Fprintf(w, "expires:  %s (in %d days)\n", ca.Cert.NotAfter.UTC().Format(time.DateOnly), days)
	if ca.Keyless() {
		fmt.Fprintf(w, "key:      none (%s is missing: the CA can be trusted but cannot issue certificates)\n", certs.RootKeyFile)
	} else {
		fmt.Fprintf(w, "key:      %s\n", certs.RootKeyFile)
	}
}

// printResults prints one line per trust store (per NSS database), with the
// reason and the fix under any store that was skipped or failed.
func printResults(w io.Writer, results []certs.StoreResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintln(w, "trust stores:")
	for _, r := range results {
		loc := r.Location
		if loc == "" {
			loc = "-"
		}
		fmt.Fprintf(w, "  %-7s %-12s %s\n", r.Store, r.State, loc)
		if r.Reason != "" {
			fmt.Fprintf(w, "          why: %s\n", r.Reason)
		}
		if r.Fix != "" {
			fmt.Fprintf(w, "          fix: %s\n", r.Fix)
		}
	}
}
