package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/payouts"
	"satchel.dev/backend/server"
	adminv1 "satchel.dev/shared/api/satchel/admin/v1"
	"satchel.dev/shared/api/satchel/admin/v1/adminv1connect"
	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

const adminUsage = `usage: satchel-server admin [--server URL] [--connect HOST:PORT] [--key-file PATH] [--json] COMMAND [ARGS]

Calls the admin RPCs of a running satchel-server, signed (NIP-98) with an admin's key: the
key in $SATCHEL_ADMIN_NSEC (an nsec or 64 hex characters), or in the file --key-file names
($SATCHEL_ADMIN_KEY_FILE). Its public key must be in the server's --admins. GAME is a slug or an
id. Every change is audited with the --reason given.

Games
  feature GAME [--reason TEXT]          show the game first in the store (FEATURED)
  unfeature GAME [--reason TEXT]        back to LISTED
  ban GAME --reason TEXT                hide it, stop its sales and downloads (BANNED)
  unban GAME --reason TEXT              back to its status before the ban
  set-status GAME STATUS [--reason TEXT]  DRAFT, UNLISTED, LISTED, FEATURED or BANNED
Buyers
  revoke (--purchase ID | --entitlement ID) --reason TEXT
                                        stop an entitlement; the owner's launcher hears of it
  refund PURCHASE --reason TEXT [--reference REF]
                                        record a refund made outside the system: REFUNDED,
                                        REFUND ledger entries, entitlement revoked, payout
                                        canceled if unpaid
Payouts
  payouts [--status FAILED] [--page-size N] [--page-token T]
                                        list payouts in a status (FAILED by default)
  retry-payout PAYOUT [--reason TEXT]   give a FAILED payout a fresh round of attempts
  cancel-payout PAYOUT --reason TEXT    make sure a payout is never paid
  stuck-payouts [--older-than 1h] [--page-size N]
                                        payouts whose payment has been in flight, or in a
                                        state the Lightning node does not tell, for longer
                                        than --older-than (what satchel_payouts_stuck counts)
Looking
  announcements [--game GAME] [--limit N]   announcements on Nostr, each relay's delivery and attempts
  audit [--target ID] [--limit N]           the audit log, newest first

satchel-server admin COMMAND -h tells more of a command.

Examples:
  SATCHEL_ADMIN_KEY_FILE=/etc/satchel/admin.nsec satchel-server admin --server https://store.example.com \
      ban space-goose --reason "malware reported by players"
  satchel-server admin --key-file admin.nsec --json payouts --status FAILED
`

// adminCommand runs `satchel-server admin ...`.
func adminCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("satchel-server admin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	serverURL := fs.String("server", or(getenv("SATCHEL_SERVER"), "http://127.0.0.1:8080"),
		"the server's public URL, which requests are signed for ($SATCHEL_SERVER)")
	connectTo := fs.String("connect", "", "reach the server at this host:port instead of the public URL's (behind a proxy)")
	keyFile := fs.String("key-file", getenv("SATCHEL_ADMIN_KEY_FILE"), "file holding the admin's key, nsec or hex ($SATCHEL_ADMIN_KEY_FILE)")
	asJSON := fs.Bool("json", false, "print the server's answer as JSON")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return helpRequested{adminUsage}
	} else if err != nil {
		return usageError{fmt.Errorf("admin: %w (satchel-server admin -h lists the commands and flags)", err)}
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("admin: name a command (satchel-server admin -h lists them)")}
	}
	if helpAsked(fs.Args()[1:]) { // a command's help needs no key and no server
		return (&adminCLI{}).run(fs.Arg(0), fs.Args()[1:])
	}
	key, err := adminKey(getenv("SATCHEL_ADMIN_NSEC"), *keyFile)
	if err != nil {
		return usageError{err}
	}
	base := strings.TrimRight(*serverURL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Errorf("admin: --server %q: use the server's public URL, as in https://satchel.example.com", *serverURL)}
	}
	var transport http.RoundTripper = http.DefaultTransport
	if *connectTo != "" {
		u, _ := url.Parse(base)
		transport = server.RewriteHost{Public: base, Local: u.Scheme + "://" + *connectTo}
	}
	httpClient := &http.Client{Transport: &nip98.Transport{Signer: key, Base: transport}, Timeout: time.Minute}
	c := &adminCLI{
		ctx: ctx, out: stdout, json: *asJSON,
		admin:   adminv1connect.NewAdminServiceClient(httpClient, base),
		catalog: catalogv1connect.NewCatalogServiceClient(httpClient, base),
	}
	return adminError(c.run(fs.Arg(0), fs.Args()[1:]))
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// adminKey reads the admin's key from $SATCHEL_ADMIN_NSEC, or the key file.
func adminKey(env, file string) (nostr.SecretKey, error) {
	const how = "the admin commands sign with an admin's key: set $SATCHEL_ADMIN_NSEC, or give --key-file PATH ($SATCHEL_ADMIN_KEY_FILE) naming a file that holds an nsec or 64 hex characters"
	switch {
	case file != "":
		raw, err := os.ReadFile(file)
		if err != nil {
			return nostr.SecretKey{}, fmt.Errorf("admin: reading the key file: %w", err)
		}
		k, err := nostr.ParseSecretKey(strings.TrimSpace(string(raw)))
		if err != nil {
			return nostr.SecretKey{}, fmt.Errorf("admin: the key file %s does not hold a Nostr secret key: %s", file, how)
		}
		return k, nil
	case env != "":
		k, err := nostr.ParseSecretKey(strings.TrimSpace(env))
		if err != nil {
			return nostr.SecretKey{}, fmt.Errorf("admin: $SATCHEL_ADMIN_NSEC is not a Nostr secret key: %s", how)
		}
		return k, nil
	}
	return nostr.SecretKey{}, errors.New("admin: no key: " + how)
}

type adminCLI struct {
	ctx     context.Context
	out     io.Writer
	json    bool
	admin   adminv1connect.AdminServiceClient
	catalog catalogv1connect.CatalogServiceClient
}

// parse parses a command's flags wherever they stand among its arguments, and checks that
// exactly nargs arguments remain.
func parse(fs *flag.FlagSet, args []string, nargs int, usage string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var rest []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, helpRequested{adminCommandHelp(fs, usage)}
		} else if err != nil {
			return nil, usageError{fmt.Errorf("%v\nusage: satchel-server admin %s", err, usage)}
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	if len(rest) != nargs {
		return nil, usageError{fmt.Errorf("usage: satchel-server admin %s", usage)}
	}
	return rest, nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// gameID resolves a slug (or passes an id).
func (c *adminCLI) gameID(game string) (string, error) {
	if uuidPattern.MatchString(game) {
		return game, nil
	}
	res, err := c.catalog.GetGame(c.ctx, &catalogv1.GetGameRequest{Slug: game})
	if err != nil {
		return "", fmt.Errorf("finding game %q: %w", game, err)
	}
	return res.GetGame().GetId(), nil
}

var gameStatuses = map[string]catalogv1.GameStatus{
	"DRAFT": catalogv1.GameStatus_GAME_STATUS_DRAFT, "UNLISTED": catalogv1.GameStatus_GAME_STATUS_UNLISTED,
	"LISTED": catalogv1.GameStatus_GAME_STATUS_LISTED, "FEATURED": catalogv1.GameStatus_GAME_STATUS_FEATURED,
	"BANNED": catalogv1.GameStatus_GAME_STATUS_BANNED,
}

// adminCommands are the admin commands by name; each parses its own arguments.
var adminCommands = map[string]func(c *adminCLI, cmd string, args []string) error{
	"feature": (*adminCLI).setStatus, "unfeature": (*adminCLI).setStatus, "ban": (*adminCLI).setStatus,
	"set-status": (*adminCLI).setStatus, "unban": (*adminCLI).unban,
	"revoke": (*adminCLI).revoke, "refund": (*adminCLI).refund,
	"payouts": (*adminCLI).payouts, "retry-payout": (*adminCLI).retryPayout, "cancel-payout": (*adminCLI).cancelPayout,
	"stuck-payouts": (*adminCLI).stuckPayouts, "announcements": (*adminCLI).announcements, "audit": (*adminCLI).audit,
}

// adminHelp says what each admin command does, with examples: `satchel-server admin COMMAND -h`
// prints it between the command's usage and its flags.
var adminHelp = map[string]string{
	"feature": `Shows the game first in the store (FEATURED).

Example:
  satchel-server admin feature lantern-drift --reason "staff pick"
`,
	"unfeature": `Moves a FEATURED game back to LISTED.

Example:
  satchel-server admin unfeature lantern-drift
`,
	"ban": `Hides the game and stops its sales and downloads (BANNED); its owners' launchers keep what
they installed.

Example:
  satchel-server admin ban space-goose --reason "malware reported by players"
`,
	"unban": `Moves a BANNED game back to the status it had before the ban.

Example:
  satchel-server admin unban space-goose --reason "appeal upheld"
`,
	"set-status": `Moves a game to any status: DRAFT, UNLISTED, LISTED, FEATURED or BANNED.

Example:
  satchel-server admin set-status lantern-drift UNLISTED --reason "developer asked"
`,
	"revoke": `Stops an entitlement, named by its purchase or by its id; the owner's launcher hears of it.

Examples:
  satchel-server admin revoke --purchase 0b6f0f9e-4d3a-4c53-9f61-2a4f5c1e8d77 --reason chargeback
  satchel-server admin revoke --entitlement 5d1c... --reason "shared receipt code"
`,
	"refund": `Records a refund made outside the system: the purchase REFUNDED, REFUND ledger entries, the
entitlement revoked, the payout canceled if it is not paid yet.

Example:
  satchel-server admin refund 0b6f0f9e-4d3a-4c53-9f61-2a4f5c1e8d77 --reason "refunded by email" --reference ticket-4411
`,
	"payouts": `Lists payouts in a status (FAILED by default), a page at a time.

Examples:
  satchel-server admin payouts
  satchel-server admin --json payouts --status RETRYING --page-size 100
`,
	"retry-payout": `Gives a FAILED payout a fresh round of attempts.

Example:
  satchel-server admin retry-payout 9a2e0c43-71b5-4df4-8f8e-3f0e2b6d1c55 --reason "address fixed"
`,
	"cancel-payout": `Makes sure a payout is never paid.

Example:
  satchel-server admin cancel-payout 9a2e0c43-71b5-4df4-8f8e-3f0e2b6d1c55 --reason "developer asked"
`,
	"stuck-payouts": `Lists payouts whose payment has been in flight, or in a state the Lightning node does not
tell, for longer than --older-than (what satchel_payouts_stuck counts).

Example:
  satchel-server admin stuck-payouts --older-than 30m
`,
	"announcements": `Lists announcements on Nostr, each relay's delivery and attempts.

Example:
  satchel-server admin announcements --game lantern-drift --limit 10
`,
	"audit": `Lists the audit log, newest first.

Example:
  satchel-server admin audit --target 0b6f0f9e-4d3a-4c53-9f61-2a4f5c1e8d77 --limit 20
`,
}

// adminCommandHelp is an admin command's help: its usage, adminHelp's text and its flags.
func adminCommandHelp(fs *flag.FlagSet, usage string) string {
	name, _, _ := strings.Cut(usage, " ")
	var b strings.Builder
	fmt.Fprintf(&b, "usage: satchel-server admin [--server URL] [--key-file PATH] %s\n\n%s\nFlags:\n", usage, adminHelp[name])
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

// run runs the admin command cmd with its arguments.
func (c *adminCLI) run(cmd string, args []string) error {
	command, ok := adminCommands[cmd]
	if !ok {
		return usageError{fmt.Errorf("admin: unknown command %q (satchel-server admin -h lists them)", cmd)}
	}
	return command(c, cmd, args)
}

// flags returns a command's flag set, with the --reason every command takes.
func flags(cmd string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	return fs, fs.String("reason", "", "why (audited)")
}

// printGame prints a game's status after a change.
func (c *adminCLI) printGame(g *catalogv1.Game) error {
	return c.print(g, func() {
		fmt.Fprintf(c.out, "game %s (%s) is %s\n", g.GetSlug(), g.GetId(), strings.TrimPrefix(g.GetStatus().String(), "GAME_STATUS_"))
	})
}

// setStatus runs feature, unfeature, ban and set-status.
func (c *adminCLI) setStatus(cmd string, args []string) error {
	fs, reason := flags(cmd)
	usage, n := cmd+" GAME --reason TEXT", 1
	if cmd == "set-status" {
		usage, n = cmd+" GAME STATUS [--reason TEXT]", 2
	}
	rest, err := parse(fs, args, n, usage)
	if err != nil {
		return err
	}
	id, err := c.gameID(rest[0])
	if err != nil {
		return err
	}
	to := map[string]catalogv1.GameStatus{"feature": catalogv1.GameStatus_GAME_STATUS_FEATURED,
		"unfeature": catalogv1.GameStatus_GAME_STATUS_LISTED, "ban": catalogv1.GameStatus_GAME_STATUS_BANNED}[cmd]
	if cmd == "set-status" {
		var ok bool
		if to, ok = gameStatuses[strings.ToUpper(rest[1])]; !ok {
			return usageError{fmt.Errorf("status %q: use DRAFT, UNLISTED, LISTED, FEATURED or BANNED", rest[1])}
		}
	}
	res, err := c.admin.SetGameStatus(c.ctx, &adminv1.SetGameStatusRequest{GameId: id, Status: to, Reason: *reason})
	if err != nil {
		return err
	}
	return c.printGame(res.GetGame())
}

// unban runs unban.
func (c *adminCLI) unban(cmd string, args []string) error {
	fs, reason := flags(cmd)
	rest, err := parse(fs, args, 1, cmd+" GAME --reason TEXT")
	if err != nil {
		return err
	}
	id, err := c.gameID(rest[0])
	if err != nil {
		return err
	}
	res, err := c.admin.UnbanGame(c.ctx, &adminv1.UnbanGameRequest{GameId: id, Reason: *reason})
	if err != nil {
		return err
	}
	return c.printGame(res.GetGame())
}

// revoke runs revoke.
func (c *adminCLI) revoke(cmd string, args []string) error {
	fs, reason := flags(cmd)
	purchase := fs.String("purchase", "", "the purchase whose entitlement to revoke")
	entitlement := fs.String("entitlement", "", "the entitlement to revoke")
	if _, err := parse(fs, args, 0, "revoke (--purchase ID | --entitlement ID) --reason TEXT"); err != nil {
		return err
	}
	res, err := c.admin.RevokeEntitlement(c.ctx, &adminv1.RevokeEntitlementRequest{
		EntitlementId: *entitlement, PurchaseId: *purchase, Reason: *reason})
	if err != nil {
		return err
	}
	e := res.GetEntitlement()
	return c.print(res, func() {
		fmt.Fprintf(c.out, "entitlement %s (purchase %s, game %s) revoked at %s\n", e.GetId(), e.GetPurchaseId(), e.GetGameId(), when(e.GetRevokedAt()))
	})
}

// refund runs refund.
func (c *adminCLI) refund(cmd string, args []string) error {
	fs, reason := flags(cmd)
	reference := fs.String("reference", "", "the refund's reference outside the system (a payment hash, a ticket)")
	rest, err := parse(fs, args, 1, "refund PURCHASE --reason TEXT [--reference REF]")
	if err != nil {
		return err
	}
	res, err := c.admin.RefundPurchase(c.ctx, &adminv1.RefundPurchaseRequest{PurchaseId: rest[0], Reason: *reason, Reference: *reference})
	if err != nil {
		return err
	}
	p := res.GetPurchase()
	return c.print(res, func() {
		fmt.Fprintf(c.out, "purchase %s of %q is %s: the money received for it recorded as refunded, any entitlement revoked\n",
			p.GetId(), p.GetGameTitle(), strings.TrimPrefix(p.GetStatus().String(), "PURCHASE_STATUS_"))
	})
}

// payouts runs payouts.
func (c *adminCLI) payouts(cmd string, args []string) error {
	fs, _ := flags(cmd)
	status := fs.String("status", "FAILED", "SCHEDULED, RETRYING, SENT, FAILED or CANCELED")
	size := fs.Int("page-size", 0, "payouts per page (default 20, at most 100)")
	token := fs.String("page-token", "", "the next page's token, from the previous page")
	if _, err := parse(fs, args, 0, "payouts [--status FAILED] [--page-size N] [--page-token T]"); err != nil {
		return err
	}
	st, ok := developerv1.PayoutStatus_value["PAYOUT_STATUS_"+strings.ToUpper(*status)]
	if !ok || st == 0 {
		return usageError{fmt.Errorf("status %q: use SCHEDULED, RETRYING, SENT, FAILED or CANCELED", *status)}
	}
	res, err := c.admin.ListPayouts(c.ctx, &adminv1.ListPayoutsRequest{Status: developerv1.PayoutStatus(st),
		PageSize: int32(*size), PageToken: *token})
	if err != nil {
		return err
	}
	return c.print(res, func() {
		if len(res.GetPayouts()) == 0 {
			fmt.Fprintf(c.out, "no %s payouts\n", strings.ToUpper(*status))
		}
		for _, p := range res.GetPayouts() {
			fmt.Fprintf(c.out, "payout %s  %s  %d msat to %s  %q  purchase %s  %d failed attempts  last error: %s\n", p.GetId(),
				strings.TrimPrefix(p.GetStatus().String(), "PAYOUT_STATUS_"), p.GetAmountMsat(), p.GetLnAddress(), p.GetGameTitle(),
				p.GetPurchaseId(), p.GetAttemptCount(), or(p.GetLastError(), "none"))
		}
		if t := res.GetNextPageToken(); t != "" {
			fmt.Fprintf(c.out, "more: --page-token %s\n", t)
		}
	})
}

// retryPayout runs retry-payout.
func (c *adminCLI) retryPayout(cmd string, args []string) error {
	fs, reason := flags(cmd)
	rest, err := parse(fs, args, 1, cmd+" PAYOUT --reason TEXT")
	if err != nil {
		return err
	}
	res, err := c.admin.RetryPayout(c.ctx, &adminv1.RetryPayoutRequest{PayoutId: rest[0], Reason: *reason})
	if err != nil {
		return err
	}
	return c.printPayout(res.GetPayout())
}

// cancelPayout runs cancel-payout.
func (c *adminCLI) cancelPayout(cmd string, args []string) error {
	fs, reason := flags(cmd)
	rest, err := parse(fs, args, 1, cmd+" PAYOUT --reason TEXT")
	if err != nil {
		return err
	}
	res, err := c.admin.CancelPayout(c.ctx, &adminv1.CancelPayoutRequest{PayoutId: rest[0], Reason: *reason})
	if err != nil {
		return err
	}
	return c.printPayout(res.GetPayout())
}

// printPayout prints a payout's status after a change.
func (c *adminCLI) printPayout(p *developerv1.Payout) error {
	return c.print(p, func() {
		fmt.Fprintf(c.out, "payout %s is %s\n", p.GetId(), strings.TrimPrefix(p.GetStatus().String(), "PAYOUT_STATUS_"))
	})
}

// stuckPayouts runs stuck-payouts.
func (c *adminCLI) stuckPayouts(cmd string, args []string) error {
	fs, _ := flags(cmd)
	olderThan := fs.Duration("older-than", payouts.DefaultStuckAfter, "how long a payment has been in flight or unknown")
	size := fs.Int("page-size", 0, "at most this many (default 20, at most 100)")
	if _, err := parse(fs, args, 0, "stuck-payouts [--older-than 1h] [--page-size N]"); err != nil {
		return err
	}
	res, err := c.admin.ListStuckPayouts(c.ctx, &adminv1.ListStuckPayoutsRequest{OlderThan: durationpb.New(*olderThan),
		PageSize: int32(*size)})
	if err != nil {
		return err
	}
	return c.print(res, func() {
		if len(res.GetPayouts()) == 0 {
			fmt.Fprintf(c.out, "no payout has had a payment in flight or unknown for more than %v\n", *olderThan)
		}
		for _, sp := range res.GetPayouts() {
			p := sp.GetPayout()
			fmt.Fprintf(c.out, "payout %s  %s since %s  %d msat to %s  %q  purchase %s  payment %s  last error: %s\n", p.GetId(),
				strings.TrimPrefix(sp.GetPaymentState().String(), "PAYMENT_STATE_"), when(sp.GetPaymentStateSince()),
				p.GetAmountMsat(), p.GetLnAddress(), p.GetGameTitle(), p.GetPurchaseId(), p.GetPaymentHash(), or(p.GetLastError(), "none"))
		}
	})
}

// announcements runs announcements.
func (c *adminCLI) announcements(cmd string, args []string) error {
	fs, _ := flags(cmd)
	game := fs.String("game", "", "one game's announcements (slug or id)")
	limit := fs.Int("limit", 0, "at most this many (default 50)")
	if _, err := parse(fs, args, 0, "announcements [--game GAME] [--limit N]"); err != nil {
		return err
	}
	id := ""
	if *game != "" {
		var err error
		if id, err = c.gameID(*game); err != nil {
			return err
		}
	}
	res, err := c.admin.ListAnnouncements(c.ctx, &adminv1.ListAnnouncementsRequest{GameId: id, Limit: int32(*limit)})
	if err != nil {
		return err
	}
	return c.print(res, func() {
		if len(res.GetAnnouncements()) == 0 {
			fmt.Fprintln(c.out, "no announcements (is --nostr-relays set on the server?)")
		}
		for _, a := range res.GetAnnouncements() {
			c.printAnnouncement(a)
		}
	})
}

// printAnnouncement prints an announcement with each relay's delivery and attempts.
func (c *adminCLI) printAnnouncement(a *adminv1.Announcement) {
	fmt.Fprintf(c.out, "%s  %s  %s %s  created %s", a.GetId(), strings.TrimPrefix(a.GetKind().String(), "ANNOUNCEMENT_KIND_"),
		a.GetGameSlug(), a.GetVersion(), when(a.GetCreatedAt()))
	if ids := a.GetEventIds(); len(ids) == 2 {
		fmt.Fprintf(c.out, "  note %s  file %s", ids[0], ids[1])
	}
	if a.GetSkipped() != "" {
		fmt.Fprintf(c.out, "  skipped: %s", a.GetSkipped())
	}
	fmt.Fprintln(c.out)
	for _, d := range a.GetDeliveries() {
		fmt.Fprintf(c.out, "  %s  %s after %d attempts", d.GetRelay(), strings.TrimPrefix(d.GetStatus().String(), "DELIVERY_STATUS_"),
			d.GetAttemptCount())
		if d.GetNextAttemptAt() != nil {
			fmt.Fprintf(c.out, ", next at %s", when(d.GetNextAttemptAt()))
		}
		fmt.Fprintln(c.out)
		for _, at := range d.GetAttempts() {
			result := "ok"
			if !at.GetOk() {
				result = "failed"
			}
			fmt.Fprintf(c.out, "    #%d %s %s: %s\n", at.GetAttempt(), when(at.GetStartedAt()), result, at.GetResult())
		}
	}
}

// audit runs audit.
func (c *adminCLI) audit(cmd string, args []string) error {
	fs, _ := flags(cmd)
	target := fs.String("target", "", "the records of one game, entitlement, purchase or payout (an id)")
	limit := fs.Int("limit", 0, "at most this many (default 50)")
	if _, err := parse(fs, args, 0, "audit [--target ID] [--limit N]"); err != nil {
		return err
	}
	res, err := c.admin.ListAuditRecords(c.ctx, &adminv1.ListAuditRecordsRequest{TargetId: *target, Limit: int32(*limit)})
	if err != nil {
		return err
	}
	return c.print(res, func() {
		for _, r := range res.GetRecords() {
			fmt.Fprintf(c.out, "%s  %s by %s on %s %s  reason: %q  %s\n", when(r.GetCreatedAt()), r.GetAction(), r.GetAdminPubkey(),
				r.GetTargetKind(), r.GetTargetId(), r.GetReason(), r.GetDetailsJson())
		}
	})
}

// print writes msg as JSON with --json, else calls text.
func (c *adminCLI) print(msg proto.Message, text func()) error {
	if !c.json {
		text()
		return nil
	}
	raw, err := protojson.MarshalOptions{Multiline: true}.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(c.out, string(raw))
	return err
}

func when(t *timestamppb.Timestamp) string {
	if t == nil {
		return "-"
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

// adminError turns a Connect error into a line an operator can act on.
func adminError(err error) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return fmt.Errorf("the server refused: %s: %s", ce.Code(), ce.Message())
	}
	return err
}
