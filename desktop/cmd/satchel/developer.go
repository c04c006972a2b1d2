package main

import (
	"flag"
	"fmt"
	"io"
)

func (a *app) developerCmd(args []string) error {
	fs := flag.NewFlagSet("developer", flag.ContinueOnError)
	address := fs.String("address", "", "the Lightning Address your sales are paid to (checked live by the server)")
	studio := fs.String("studio", "", `the studio name your games are shown "by" ("-" clears it)`)
	if _, err := parse(fs, args, 0, 0, "developer [--address NAME@DOMAIN] [--studio NAME]"); err != nil {
		return err
	}
	c, err := a.openCore(true, true)
	if err != nil {
		return err
	}
	acct, err := c.Account(a.ctx)
	if *address != "" {
		acct, err = c.BecomeDeveloper(a.ctx, *address)
	}
	if err == nil && *studio != "" {
		name := *studio
		if name == "-" {
			name = ""
		}
		acct, err = c.SetStudio(a.ctx, name)
	}
	if err != nil {
		return err
	}
	a.out(acct, func(w io.Writer) {
		if !acct.Developer {
			fmt.Fprintln(w, "not a developer yet: set a payout address with --address")
			return
		}
		fmt.Fprintf(w, "paid to  %s\n", acct.PayoutAddress)
		if acct.Studio != "" {
			fmt.Fprintf(w, "studio   %s\n", acct.Studio)
		}
	})
	return nil
}
