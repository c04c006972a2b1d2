package lnd_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/lightning/lnd/internal/rest"
	"satchel.dev/backend/lightning/lnd/regtest"
)

// network is the package's regtest network: btcd, a platform node and a buyer node with a
// channel between them. Tests run one after another: settle indexes are the node's own.
var network *regtest.Network

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	net, err := regtest.Start(ctx, regtest.Options{Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lnd tests need a regtest network:", err)
		return 1
	}
	network = net
	defer func() {
		if err := net.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "stop the regtest network:", err)
		}
	}()
	return m.Run()
}

// setup returns providers on the platform and the buyer node, and a context for the test.
func setup(t *testing.T) (ctx context.Context, platform, buyer *lnd.Provider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	platform, err := lnd.New(network.Platform.Config())
	if err != nil {
		t.Fatal(err)
	}
	buyer, err = lnd.New(network.Buyer.Config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(platform.Close)
	t.Cleanup(buyer.Close)
	return ctx, platform, buyer
}

// settle has payer pay a new invoice of payee for amountMsat and returns the invoice as payee
// then knows it (settled, with its settle index).
func settle(ctx context.Context, t *testing.T, payee, payer *lnd.Provider, amountMsat int64) lightning.Invoice {
	t.Helper()
	inv, err := payee.CreateInvoice(ctx, amountMsat, "settle "+t.Name(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pay, err := payer.PayInvoice(ctx, inv.PaymentRequest, 10_000, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Status != lightning.PaymentSucceeded {
		t.Fatalf("payment of %s: %+v", inv.ID, pay)
	}
	got, err := payee.LookupInvoice(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != lightning.InvoiceSettled || got.SettleIndex == 0 {
		t.Fatalf("paid invoice %s: state %s, settle index %d", got.ID, got.State, got.SettleIndex)
	}
	return got
}

// subscription runs SubscribeSettlements in the background until stopped.
type subscription struct {
	got    chan lightning.Invoice
	done   chan error
	cancel context.CancelFunc
}

func subscribe(ctx context.Context, p *lnd.Provider, after uint64) *subscription {
	ctx, cancel := context.WithCancel(ctx)
	s := &subscription{got: make(chan lightning.Invoice, 1000), done: make(chan error, 1), cancel: cancel}
	go func() {
		s.done <- p.SubscribeSettlements(ctx, after, func(inv lightning.Invoice) error {
			s.got <- inv
			return nil
		})
	}()
	return s
}

// next is the next settlement delivered, within 30 s.
func (s *subscription) next(t *testing.T) lightning.Invoice {
	t.Helper()
	select {
	case inv := <-s.got:
		return inv
	case err := <-s.done:
		t.Fatalf("subscription ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no settlement delivered within 30 s")
	}
	return lightning.Invoice{}
}

// none checks that nothing more is delivered for a moment.
func (s *subscription) none(t *testing.T) {
	t.Helper()
	select {
	case inv := <-s.got:
		t.Fatalf("unexpected settlement %s (settle index %d)", inv.ID, inv.SettleIndex)
	case err := <-s.done:
		t.Fatalf("subscription ended: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
}

// stop cancels the subscription and checks it ended with the context's error.
func (s *subscription) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled subscription returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("subscription did not end within 10 s of its context")
	}
}

func TestBuyerPaysPlatformAndSubscriptionSeesIt(t *testing.T) {
	ctx, platform, buyer := setup(t)
	before := settle(ctx, t, platform, buyer, 1_000)

	sub := subscribe(ctx, platform, before.SettleIndex)
	defer sub.cancel()
	inv, err := platform.CreateInvoice(ctx, 150_000, "a game", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	pay, err := buyer.PayInvoice(ctx, inv.PaymentRequest, 10_000, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Status != lightning.PaymentSucceeded {
		t.Fatalf("buyer's payment: %+v", pay)
	}
	got := sub.next(t)
	t.Logf("settlement delivered %v after the buyer started paying", time.Since(began).Round(time.Millisecond))
	if got.ID != inv.ID || got.State != lightning.InvoiceSettled || got.AmountPaidMsat != 150_000 ||
		got.AmountMsat != 150_000 || got.Memo != "a game" || got.SettleIndex != before.SettleIndex+1 || got.SettledAt.IsZero() {
		t.Fatalf("settlement %+v, want invoice %s settled for 150000 msat at settle index %d", got, inv.ID, before.SettleIndex+1)
	}
	sub.none(t)
	sub.stop(t)

	// Resuming after that index delivers only what was settled later.
	later := settle(ctx, t, platform, buyer, 2_000)
	resumed := subscribe(ctx, platform, got.SettleIndex)
	defer resumed.cancel()
	if next := resumed.next(t); next.ID != later.ID || next.SettleIndex != got.SettleIndex+1 {
		t.Fatalf("resumed after %d: got %s at %d, want %s at %d", got.SettleIndex, next.ID, next.SettleIndex, later.ID, got.SettleIndex+1)
	}
	resumed.none(t)
	resumed.stop(t)
}

func TestSubscriptionKilledAndResumedLosesNothing(t *testing.T) {
	ctx, platform, buyer := setup(t)
	start := settle(ctx, t, platform, buyer, 1_000)

	sub := subscribe(ctx, platform, start.SettleIndex)
	first := settle(ctx, t, platform, buyer, 3_000)
	if got := sub.next(t); got.ID != first.ID {
		t.Fatalf("got %s, want %s", got.ID, first.ID)
	}
	sub.stop(t) // the stream dies mid-way

	// Two settlements while nobody listens.
	missed := []lightning.Invoice{settle(ctx, t, platform, buyer, 4_000), settle(ctx, t, platform, buyer, 5_000)}

	resumed := subscribe(ctx, platform, first.SettleIndex)
	defer resumed.cancel()
	var got []string
	for range missed {
		inv := resumed.next(t)
		got = append(got, fmt.Sprintf("%s@%d/%d", inv.ID, inv.SettleIndex, inv.AmountPaidMsat))
	}
	var want []string
	for _, inv := range missed {
		want = append(want, fmt.Sprintf("%s@%d/%d", inv.ID, inv.SettleIndex, inv.AmountPaidMsat))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("settlements after resuming (-want +got):\n%s", diff)
	}
	resumed.none(t)
	resumed.stop(t)
}

func TestSubscribeFromZeroReplaysEverySettlement(t *testing.T) {
	// LND replays nothing for settle_index 0: the provider lists what was settled before.
	ctx, platform, buyer := setup(t)
	last := settle(ctx, t, platform, buyer, 1_000)

	sub := subscribe(ctx, platform, 0)
	defer sub.cancel()
	for want := uint64(1); want <= last.SettleIndex; want++ {
		inv := sub.next(t)
		if inv.SettleIndex != want || inv.State != lightning.InvoiceSettled {
			t.Fatalf("settlement #%d: got settle index %d, state %s", want, inv.SettleIndex, inv.State)
		}
	}
	live := settle(ctx, t, platform, buyer, 6_000)
	if inv := sub.next(t); inv.ID != live.ID || inv.SettleIndex != last.SettleIndex+1 {
		t.Fatalf("live settlement after the replay: got %s at %d, want %s at %d", inv.ID, inv.SettleIndex, live.ID, last.SettleIndex+1)
	}
	sub.stop(t)

	// From 0 on a node that may have settled nothing yet (the buyer's, unless a test before
	// this one paid it): every settlement from index 1 on, the new one last.
	sub = subscribe(ctx, buyer, 0)
	defer sub.cancel()
	paid := settle(ctx, t, buyer, platform, 8_000)
	for want := uint64(1); ; want++ {
		inv := sub.next(t)
		if inv.SettleIndex != want {
			t.Fatalf("buyer's settlement #%d: got settle index %d", want, inv.SettleIndex)
		}
		if inv.ID == paid.ID {
			break
		}
	}
	sub.none(t)
	sub.stop(t)
}

// TestSubscriptionAheadOfTheNode subscribes after a settle index the node has not reached, as
// a server whose saved cursor came from another node (or the same node before it was restored
// from its seed) would: LND itself skips every settlement at or below that index, so the
// subscription ends at once with ErrIndexBehind instead of waiting for them.
func TestSubscriptionAheadOfTheNode(t *testing.T) {
	ctx, platform, buyer := setup(t)
	settle(ctx, t, platform, buyer, 1_000)
	sub := subscribe(ctx, platform, 1<<40)
	defer sub.cancel()
	settle(ctx, t, platform, buyer, 2_000)
	select {
	case inv := <-sub.got:
		t.Fatalf("delivered %s at settle index %d, below where the subscription started", inv.ID, inv.SettleIndex)
	case err := <-sub.done:
		if !errors.Is(err, lightning.ErrIndexBehind) {
			t.Fatalf("SubscribeSettlements returned %v, want ErrIndexBehind", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the settlement below the subscription's start was skipped: nothing within 30 s")
	}
}

func TestSubscriptionStopsOnCallbackError(t *testing.T) {
	ctx, platform, buyer := setup(t)
	inv := settle(ctx, t, platform, buyer, 1_000)
	boom := errors.New("boom")
	err := platform.SubscribeSettlements(ctx, inv.SettleIndex-1, func(got lightning.Invoice) error {
		if got.ID != inv.ID {
			t.Errorf("got %s, want %s", got.ID, inv.ID)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("SubscribeSettlements returned %v, want the callback's error", err)
	}
}

func TestLookupInvoiceStates(t *testing.T) {
	ctx, platform, buyer := setup(t)

	inv, err := platform.CreateInvoice(ctx, 42_000, "state check", 90*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.ID) != 64 || !strings.HasPrefix(inv.PaymentRequest, "lnbcrt") || inv.State != lightning.InvoiceOpen ||
		inv.AmountMsat != 42_000 || inv.Memo != "state check" || inv.ExpiresAt.Sub(inv.CreatedAt) != 90*time.Minute ||
		time.Since(inv.CreatedAt) > time.Minute || inv.SettleIndex != 0 {
		t.Fatalf("new invoice: %+v", inv)
	}
	if got, err := platform.LookupInvoice(ctx, inv.ID); err != nil || got != inv {
		t.Fatalf("LookupInvoice = %+v, %v; want %+v", got, err, inv)
	}

	if err := platform.CancelInvoice(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := platform.LookupInvoice(ctx, inv.ID); err != nil || got.State != lightning.InvoiceCanceled {
		t.Fatalf("after CancelInvoice: %+v, %v", got, err)
	}
	if err := platform.CancelInvoice(ctx, inv.ID); err != nil {
		t.Fatalf("canceling a canceled invoice: %v", err)
	}
	// Paying a canceled invoice fails at the recipient.
	pay, err := buyer.PayInvoice(ctx, inv.PaymentRequest, 10_000, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Status != lightning.PaymentFailed || !strings.Contains(pay.FailureReason, "incorrect payment details") || pay.Preimage != "" {
		t.Fatalf("paying a canceled invoice: %+v", pay)
	}

	paid := settle(ctx, t, platform, buyer, 7_000)
	if paid.AmountPaidMsat != 7_000 || paid.SettledAt.IsZero() {
		t.Fatalf("settled invoice: %+v", paid)
	}
	if err := platform.CancelInvoice(ctx, paid.ID); err == nil || errors.Is(err, lightning.ErrNotFound) {
		t.Fatalf("canceling a settled invoice: %v, want an error other than not found", err)
	}

	unknown := strings.Repeat("ab", 32)
	for name, err := range map[string]error{
		"lookup unknown": func() error { _, err := platform.LookupInvoice(ctx, unknown); return err }(),
		"cancel unknown": platform.CancelInvoice(ctx, unknown),
		"lookup bad id":  func() error { _, err := platform.LookupInvoice(ctx, "xyz"); return err }(),
	} {
		if !errors.Is(err, lightning.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func TestCreateInvoiceRefusesBadArguments(t *testing.T) {
	ctx, platform, _ := setup(t)
	if _, err := platform.CreateInvoice(ctx, 0, "x", time.Hour); err == nil {
		t.Error("amount 0 accepted")
	}
	if _, err := platform.CreateInvoice(ctx, 1000, "x", 0); err == nil {
		t.Error("expiry 0 accepted")
	}
}

func TestPlatformPaysBuyerOnce(t *testing.T) {
	ctx, platform, buyer := setup(t)
	inv, err := buyer.CreateInvoice(ctx, 200_000, "payout", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const maxFee = 1_000
	began := time.Now()
	pay, err := platform.PayInvoice(ctx, inv.PaymentRequest, maxFee, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("payment took %v", time.Since(began).Round(time.Millisecond))
	preimage, _ := hex.DecodeString(pay.Preimage)
	sum := sha256.Sum256(preimage)
	if pay.Status != lightning.PaymentSucceeded || pay.PaymentHash != inv.ID || pay.AmountMsat != 200_000 ||
		pay.FeeMsat < 0 || pay.FeeMsat > maxFee || hex.EncodeToString(sum[:]) != inv.ID || pay.FailureReason != "" {
		t.Fatalf("payment %+v of invoice %s", pay, inv.ID)
	}

	again, err := platform.PayInvoice(ctx, inv.PaymentRequest, maxFee, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pay, again); diff != "" {
		t.Fatalf("paying again returned another payment (-first +again):\n%s", diff)
	}
	tracked, err := platform.TrackPayment(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pay, tracked); diff != "" {
		t.Fatalf("TrackPayment (-paid +tracked):\n%s", diff)
	}
	got, err := buyer.LookupInvoice(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != lightning.InvoiceSettled || got.AmountPaidMsat != 200_000 {
		t.Fatalf("buyer's invoice after two PayInvoice calls: %+v, want paid once (200000 msat)", got)
	}
}

func TestPayInvoiceInFlight(t *testing.T) {
	// The buyer holds the payment (a hold invoice): it stays in flight until the buyer
	// settles it with the preimage.
	ctx, platform, buyer := setup(t)
	buyerAPI, err := rest.New(network.Buyer.RESTURL, network.Buyer.TLSCertPath, readFile(t, network.Buyer.MacaroonPath), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer buyerAPI.CloseIdle()
	preimage := sha256.Sum256([]byte(t.Name() + time.Now().String()))
	hash := sha256.Sum256(preimage[:])
	var hold struct {
		PaymentRequest string `json:"payment_request"`
	}
	err = buyerAPI.Do(ctx, "POST", "/v2/invoices/hodl", map[string]any{
		"hash": hash[:], "value_msat": "300000", "memo": "held", "expiry": "3600",
	}, &hold)
	if err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(hash[:])

	began := time.Now()
	pay, err := platform.PayInvoice(ctx, hold.PaymentRequest, 1_000, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(began); waited < 2*time.Second || waited > 30*time.Second {
		t.Errorf("PayInvoice with a 2 s timeout returned after %v", waited)
	}
	want := lightning.Payment{PaymentHash: id, Status: lightning.PaymentInFlight, AmountMsat: 300_000}
	if diff := cmp.Diff(want, pay); diff != "" {
		t.Fatalf("held payment (-want +got):\n%s", diff)
	}
	for _, call := range []func() (lightning.Payment, error){
		func() (lightning.Payment, error) { return platform.TrackPayment(ctx, id) },
		func() (lightning.Payment, error) {
			// A timeout far longer than the test's bound below: a payment already in flight
			// is reported at once, not after waiting it out.
			return platform.PayInvoice(ctx, hold.PaymentRequest, 1_000, time.Minute)
		},
	} {
		began := time.Now()
		got, err := call()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("payment in flight (-want +got):\n%s", diff)
		}
		if waited := time.Since(began); waited > 30*time.Second {
			t.Errorf("an existing payment in flight took %v to report", waited)
		}
	}

	if err := buyerAPI.Do(ctx, "POST", "/v2/invoices/settle", map[string]any{"preimage": preimage[:]}, nil); err != nil {
		t.Fatal(err)
	}
	var done lightning.Payment
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if done, err = platform.TrackPayment(ctx, id); err != nil {
			t.Fatal(err)
		}
		if done.Status != lightning.PaymentInFlight || time.Now().After(deadline) {
			break
		}
	}
	if done.Status != lightning.PaymentSucceeded || done.Preimage != hex.EncodeToString(preimage[:]) {
		t.Fatalf("after the buyer settled: %+v", done)
	}
	got, err := buyer.LookupInvoice(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != lightning.InvoiceSettled || got.AmountPaidMsat != 300_000 {
		t.Fatalf("buyer's hold invoice: %+v, want paid once (300000 msat)", got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPayInvoiceFailures(t *testing.T) {
	ctx, platform, buyer := setup(t)

	// More than the platform's side of the channel: no route can carry it.
	big, err := buyer.CreateInvoice(ctx, (regtest.ChannelSat+1)*1000, "too big", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pay, err := platform.PayInvoice(ctx, big.PaymentRequest, 1_000, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if pay.Status != lightning.PaymentFailed || pay.FailureReason == "" || pay.PaymentHash != big.ID {
		t.Fatalf("paying more than the channel holds: %+v", pay)
	}
	t.Logf("failure reason: %s", pay.FailureReason)
	// A failed payment is returned as it is, not tried again.
	if again, err := platform.PayInvoice(ctx, big.PaymentRequest, 1_000, 30*time.Second); err != nil || again != pay {
		t.Fatalf("paying a failed invoice again: %+v, %v; want %+v", again, err, pay)
	}

	for name, call := range map[string]func() error{
		"garbage invoice": func() error { _, err := platform.PayInvoice(ctx, "lnbcrt1garbage", 1_000, time.Second); return err },
		"negative fee":    func() error { _, err := platform.PayInvoice(ctx, big.PaymentRequest, -1, time.Second); return err },
		"zero timeout":    func() error { _, err := platform.PayInvoice(ctx, big.PaymentRequest, 1_000, 0); return err },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTrackPaymentUnknown(t *testing.T) {
	ctx, platform, _ := setup(t)
	for _, hash := range []string{strings.Repeat("cd", 32), "not-a-hash"} {
		if _, err := platform.TrackPayment(ctx, hash); !errors.Is(err, lightning.ErrNotFound) {
			t.Errorf("TrackPayment(%q) = %v, want ErrNotFound", hash, err)
		}
	}
}

func TestNewRefusesWrongNetwork(t *testing.T) {
	cfg := network.Platform.Config()
	cfg.Network = "bc"
	_, err := lnd.New(cfg)
	if err == nil || !strings.Contains(err.Error(), "regtest") || !strings.Contains(err.Error(), `Config.Network is "bc"`) {
		t.Fatalf("New with Network bc on a regtest node: %v", err)
	}
	t.Log(err)
}

func TestNewRefusesBadCredentials(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.macaroon")
	if err := os.WriteFile(garbage, []byte("not a macaroon"), 0o600); err != nil {
		t.Fatal(err)
	}
	otherMac, err := os.ReadFile(network.Buyer.MacaroonPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*lnd.Config)
		want string
	}{
		{"garbage macaroon", func(c *lnd.Config) { c.MacaroonPath = garbage }, "Config.MacaroonPath"},
		{"other node's macaroon", func(c *lnd.Config) { c.MacaroonPath = network.Buyer.MacaroonPath }, "Config.MacaroonPath"},
		{"missing macaroon", func(c *lnd.Config) { c.MacaroonPath = garbage + ".none" }, "Config.MacaroonPath"},
		{"other node's certificate", func(c *lnd.Config) { c.TLSCertPath = network.Buyer.TLSCertPath }, "TLS certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := network.Platform.Config()
			tc.edit(&cfg)
			_, err := lnd.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), hex.EncodeToString(otherMac)) {
				t.Fatal("the error shows the macaroon")
			}
			t.Log(err)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	good := lnd.Config{URL: "https://127.0.0.1:8080", TLSCertPath: "tls.cert", MacaroonPath: "admin.macaroon", Network: "bcrt"}
	for _, tc := range []struct {
		name string
		edit func(*lnd.Config)
		want string // "" for valid
	}{
		{"valid", func(*lnd.Config) {}, ""},
		{"no URL", func(c *lnd.Config) { c.URL = "" }, "Config.URL"},
		{"URL without scheme", func(c *lnd.Config) { c.URL = "127.0.0.1:8080" }, "Config.URL"},
		{"no certificate", func(c *lnd.Config) { c.TLSCertPath = "" }, "Config.TLSCertPath"},
		{"no macaroon", func(c *lnd.Config) { c.MacaroonPath = "" }, "Config.MacaroonPath"},
		{"signet", func(c *lnd.Config) { c.Network = "tbs" }, "Config.Network"},
		{"negative timeout", func(c *lnd.Config) { c.Timeout = -time.Second }, "Config.Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			err := cfg.WithDefaults().Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Validate: %v, want an error naming %s", err, tc.want)
			}
		})
	}
	if got := (lnd.Config{}).WithDefaults().Timeout; got != lnd.DefaultTimeout {
		t.Errorf("default Timeout %v, want %v", got, lnd.DefaultTimeout)
	}
}
