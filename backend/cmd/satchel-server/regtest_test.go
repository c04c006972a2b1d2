package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/lightning/lnd/regtest"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/postgres/pgtest"
)

// TestRegtestPurchase is real money on a real (regtest) Lightning network: satchel-server takes
// its invoices from the platform's LND node, the buyer's node pays one, and the purchase turns
// PAID with the ledger balanced.
func TestRegtestPurchase(t *testing.T) {
	ctx := context.Background()
	nw, err := regtest.Start(ctx, regtest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Stop(ctx)
	platform := nw.Platform.Config()
	dsn := pgtest.NewDatabase(t)
	s := startServer(t, []string{"DATABASE_URL=" + dsn, "SATCHEL_DATA_DIR=" + t.TempDir()},
		"serve", "--demo", "--listen", "127.0.0.1:0", "--invoice-provider", "lnd", "--lnd-url", platform.URL,
		"--lnd-tls-cert", platform.TLSCertPath, "--lnd-macaroon", platform.MacaroonPath, "--lnd-network", "bcrt")
	if !strings.Contains(s.log(), "real money") {
		t.Errorf("the server does not say it takes real money:\n%s", s.log())
	}

	_, list := post(t, s.url, "satchel.catalog.v1.CatalogService/ListGames", "{}", "")
	game := list["games"].([]any)[0].(map[string]any)
	code, res := post(t, s.url, "satchel.purchase.v1.PurchaseService/CreatePurchase", `{"gameId":"`+game["id"].(string)+`"}`, "")
	if code != 200 {
		t.Fatalf("CreatePurchase: %d %v", code, res)
	}
	p := res["purchase"].(map[string]any)
	if p["testMoney"] == true || !strings.HasPrefix(p["paymentRequest"].(string), "lnbcrt21") {
		t.Fatalf("purchase = %v", p)
	}

	buyer, err := lnd.New(nw.Buyer.Config())
	if err != nil {
		t.Fatal(err)
	}
	payment, err := buyer.PayInvoice(ctx, p["paymentRequest"].(string), 10_000, 30*time.Second)
	if err != nil || payment.Status != "SUCCEEDED" {
		t.Fatalf("the buyer's payment: %+v, %v", payment, err)
	}
	body := `{"purchaseId":"` + p["id"].(string) + `","receiptCode":"` + res["receiptCode"].(string) + `"}`
	deadline := time.Now().Add(time.Minute)
	for {
		_, got := post(t, s.url, "satchel.purchase.v1.PurchaseService/GetPurchase", body, "")
		if status := got["purchase"].(map[string]any)["status"]; status == "PURCHASE_STATUS_PAID" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the purchase is %v 10 s after the payment\n%s", status, s.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if problems, err := db.CheckLedger(ctx); err != nil || len(problems) > 0 {
		t.Errorf("ledger: %+v %v", problems, err)
	}
}
