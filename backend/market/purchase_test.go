package market_test

import (
	"crypto/rand"
	"math"
	"strings"
	"testing"

	"satchel.dev/backend/market"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		amount   int64
		bps      int
		fee, net int64
	}{
		{2_100_000, 1000, 210_000, 1_890_000},
		{1, 1000, 0, 1},           // rounding favours the developer
		{9_999, 1000, 999, 9_000}, // floor(999.9)
		{0, 1000, 0, 0},
		{1_000_000, 0, 0, 1_000_000},
		{1_000_000, 10000, 1_000_000, 0},
		{100_000_000_000, 250, 2_500_000_000, 97_500_000_000},
		{math.MaxInt64, 10000, math.MaxInt64, 0},
	}
	for _, tt := range tests {
		fee, net := market.Split(tt.amount, tt.bps)
		if fee != tt.fee || net != tt.net || fee+net != tt.amount {
			t.Errorf("Split(%d, %d) = %d, %d; want %d, %d", tt.amount, tt.bps, fee, net, tt.fee, tt.net)
		}
	}
	for amount := int64(0); amount < 30_000; amount += 7 {
		for _, bps := range []int{1, 333, 1000, 9999} {
			fee, net := market.Split(amount, bps)
			if fee+net != amount || fee*10000 > amount*int64(bps) || (fee+1)*10000 <= amount*int64(bps) {
				t.Fatalf("Split(%d, %d) = %d, %d: not floor(amount × bps / 10000)", amount, bps, fee, net)
			}
		}
	}
}

func TestReceiptCode(t *testing.T) {
	var r [16]byte
	_, _ = rand.Read(r[:])
	code := market.NewReceiptCode(r)
	if len(code) != 34 || strings.Count(code, "-") != 6 {
		t.Fatalf("code %q: want 7 groups of 4", code)
	}
	want, err := market.ReceiptHash(code)
	if err != nil {
		t.Fatal(err)
	}
	// Typed sloppily: lower case, spaces, O for 0, l for 1.
	sloppy := strings.ToLower(strings.ReplaceAll(code, "-", " "))
	sloppy = strings.NewReplacer("0", "o", "1", "l").Replace(sloppy)
	if got, err := market.ReceiptHash(sloppy); err != nil || got != want {
		t.Errorf("sloppy %q: %v, %v", sloppy, got, err)
	}
	// Every single-symbol typo is caught by the check symbols or the alphabet, or changes the hash.
	plain := strings.ReplaceAll(code, "-", "")
	caught := 0
	for i := range plain {
		typo := []byte(plain)
		typo[i] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(strings.IndexByte("0123456789ABCDEFGHJKMNPQRSTVWXYZ", typo[i])+1)%32]
		got, err := market.ReceiptHash(string(typo))
		if err != nil {
			caught++
		} else if got == want {
			t.Fatalf("typo at %d gives the same hash", i)
		}
	}
	if caught < len(plain)*3/4 {
		t.Errorf("only %d of %d typos caught by the check symbols", caught, len(plain))
	}
	for _, bad := range []string{"", "ABCD", code + "X", strings.Repeat("U", 28)} {
		if _, err := market.ReceiptHash(bad); market.ErrorCode(err) != market.CodeInvalid {
			t.Errorf("ReceiptHash(%q) err = %v, want invalid", bad, err)
		}
	}
}
