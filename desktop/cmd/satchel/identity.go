package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"satchel.dev/desktop/signer"
)

type identityJSON struct {
	Npub      string    `json:"npub"`
	PublicKey string    `json:"pubkey"`
	Label     string    `json:"label,omitempty"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	Source    string    `json:"source"` // "keyring" or "SATCHEL_NSEC"
}

func toJSON(id signer.Identity, active bool) identityJSON {
	return identityJSON{Npub: id.Npub(), PublicKey: id.PublicKey.Hex(), Label: id.Label, Active: active, CreatedAt: id.CreatedAt, Source: "keyring"}
}

func (a *app) identityCmd(args []string) error {
	if len(args) == 0 {
		return usagef("usage: satchel identity new|import|show|list|use|export|remove")
	}
	sub, args := args[0], args[1:]
	st := a.identities()
	printID := func(id identityJSON, verb string) {
		a.out(id, func(w io.Writer) {
			if verb != "" {
				fmt.Fprintln(w, verb)
			}
			fmt.Fprintf(w, "npub:   %s\npubkey: %s\n", id.Npub, id.PublicKey)
			if id.Label != "" {
				fmt.Fprintf(w, "label:  %s\n", id.Label)
			}
			if id.Source != "keyring" {
				fmt.Fprintf(w, "source: %s\n", id.Source)
			}
		})
	}
	switch sub {
	case "new":
		fs := flag.NewFlagSet("identity new", flag.ContinueOnError)
		label := fs.String("label", "", "a name for the identity")
		if _, err := parse(fs, args, 0, 0, "identity new [--label L]"); err != nil {
			return err
		}
		id, err := st.Create(*label)
		if err != nil {
			return err
		}
		printID(toJSON(id, true), "created a new identity; its secret key is in the OS keyring (`satchel identity export` shows it, to back it up)")
		return nil
	case "import":
		fs := flag.NewFlagSet("identity import", flag.ContinueOnError)
		label := fs.String("label", "", "a name for the identity")
		if _, err := parse(fs, args, 0, 0, "identity import [--label L] < key"); err != nil {
			return err
		}
		if !a.json {
			fmt.Fprintln(a.stderr, "paste the secret key (nsec1... or 64 hex characters), then Enter:")
		}
		line, err := bufio.NewReader(io.LimitReader(a.stdin, 4096)).ReadString('\n')
		if err != nil && line == "" {
			return usagef("identity import reads the key from standard input; got nothing")
		}
		id, err := st.Import(strings.TrimSpace(line), *label)
		if err != nil {
			return usagef("%v", err)
		}
		printID(toJSON(id, true), "imported; the secret key is in the OS keyring")
		return nil
	case "show":
		ref := ""
		if len(args) > 1 {
			return usagef("usage: satchel identity show [ID]")
		} else if len(args) == 1 {
			ref = args[0]
		}
		if v := a.getenv("SATCHEL_NSEC"); v != "" && ref == "" {
			s, err := signer.NewSigner(v)
			if err != nil {
				return fmt.Errorf("%w: SATCHEL_NSEC: %v", signer.ErrNoIdentity, err)
			}
			pk := s.PublicKey()
			printID(identityJSON{Npub: pk.Npub(), PublicKey: pk.Hex(), Active: true, Source: "SATCHEL_NSEC"}, "")
			return nil
		}
		if ref == "" {
			ref = a.identity
		}
		id, err := st.Resolve(ref)
		if err != nil {
			return err
		}
		_, active, _ := st.List()
		printID(toJSON(id, id.PublicKey == active), "")
		return nil
	case "list":
		ids, active, err := st.List()
		if err != nil {
			return err
		}
		out := []identityJSON{}
		for _, id := range ids {
			out = append(out, toJSON(id, id.PublicKey == active))
		}
		a.out(out, func(w io.Writer) {
			if len(out) == 0 {
				fmt.Fprintln(w, "no identity yet: `satchel identity new` creates one")
			}
			for _, id := range out {
				mark := " "
				if id.Active {
					mark = "*"
				}
				fmt.Fprintf(w, "%s %s %s\n", mark, id.Npub, id.Label)
			}
		})
		return nil
	case "use":
		if len(args) != 1 {
			return usagef("usage: satchel identity use ID")
		}
		id, err := st.Use(args[0])
		if err != nil {
			return err
		}
		printID(toJSON(id, true), "now using")
		return nil
	case "export":
		ref := a.identity
		if len(args) == 1 {
			ref = args[0]
		} else if len(args) > 1 {
			return usagef("usage: satchel identity export [ID]")
		}
		nsec, err := st.Export(ref)
		if err != nil {
			return err
		}
		a.out(map[string]string{"nsec": nsec}, func(w io.Writer) { fmt.Fprintln(w, nsec) })
		return nil
	case "remove":
		if len(args) != 1 {
			return usagef("usage: satchel identity remove ID")
		}
		id, err := st.Remove(args[0])
		if err != nil {
			return err
		}
		printID(toJSON(id, false), "removed (its secret key is deleted from the keyring)")
		return nil
	}
	return usagef("unknown identity command %q", sub)
}
