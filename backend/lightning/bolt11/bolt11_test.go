package bolt11

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/google/go-cmp/cmp"
)

// TestSigningMatchesSpecBreakdown checks the signed bytes, their hash and the deterministic
// (RFC 6979) signature against the first example's breakdown in the spec.
func TestSigningMatchesSpecBreakdown(t *testing.T) {
	const (
		invoice    = "lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql"
		signedHex  = "6c6e62630b25fe64500d04444444444444444444444444444444444444444444444444444444444444444021a00008101820283038404800081018202830384048000810182028303840480810343f506c6561736520636f6e736964657220737570706f7274696e6720746869732070726f6a6563740500e08000"
		hashHex    = "6daf4d488be41ce7cbb487cab1ef2975e5efcea879b20d421f0ef86b07cbb987"
		sigHex     = "8d3ce9e28357337f62da0162d9454df827f83cfe499aeb1c1db349d4d81127425e434ca29929406c23bba1ae8ac6ca32880b38d4bf6ff874024cac34ba9625f1"
		recoveryID = 1
	)
	hrp, data, err := bech32.DecodeNoLimit(invoice)
	if err != nil {
		t.Fatal(err)
	}
	signed := data[:len(data)-signatureLen]
	b, _ := bech32.ConvertBits(signed, 5, 8, true)
	if got := hex.EncodeToString(append([]byte(hrp), b...)); got != signedHex {
		t.Errorf("signed bytes = %s, want %s", got, signedHex)
	}
	hash := signingHash(hrp, signed)
	if got := hex.EncodeToString(hash[:]); got != hashHex {
		t.Errorf("signing hash = %s, want %s", got, hashHex)
	}
	compact := ecdsa.SignCompact(specKey(t), hash[:], true)
	if got := hex.EncodeToString(compact[1:]); got != sigHex {
		t.Errorf("signature = %s, want %s", got, sigHex)
	}
	if got := compact[0] - 27 - 4; got != recoveryID {
		t.Errorf("recovery id = %d, want %d", got, recoveryID)
	}
}

func newKey(t *testing.T) *btcec.PrivateKey {
	t.Helper()
	key, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func pubOf(key *btcec.PrivateKey) [33]byte {
	var p [33]byte
	copy(p[:], key.PubKey().SerializeCompressed())
	return p
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	key := newKey(t)
	base := func(mod func(*Invoice)) *Invoice {
		inv := &Invoice{
			Network:       Regtest,
			AmountMsat:    21_000,
			Timestamp:     time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
			PaymentHash:   sha256.Sum256([]byte("preimage")),
			PaymentSecret: sha256.Sum256([]byte("secret")),
			Description:   "Satchel: Hollow Knight",
		}
		if mod != nil {
			mod(inv)
		}
		return inv
	}
	tests := []struct {
		name string
		in   *Invoice
		hrp  string // the expected human-readable part
		// want is what Decode returns, when not just in with the defaults filled in.
		want func(*Invoice)
	}{
		{"regtest, nano amount", base(nil), "lnbcrt210n", nil},
		{"no amount", base(func(i *Invoice) { i.AmountMsat = 0 }), "lnbcrt", nil},
		{"pico amount", base(func(i *Invoice) { i.AmountMsat = 1 }), "lnbcrt10p", nil},
		{"odd msat", base(func(i *Invoice) { i.AmountMsat = 967878534 }), "lnbcrt9678785340p", nil},
		{"micro amount", base(func(i *Invoice) { i.AmountMsat = 250_000_000 }), "lnbcrt2500u", nil},
		{"milli amount", base(func(i *Invoice) { i.AmountMsat = 2_000_000_000 }), "lnbcrt20m", nil},
		{"whole bitcoin", base(func(i *Invoice) { i.AmountMsat = 300_000_000_000 }), "lnbcrt3", nil},
		{"21 million bitcoin", base(func(i *Invoice) { i.AmountMsat = 21_000_000 * 100_000_000_000 }), "lnbcrt21000000", nil},
		{"mainnet", base(func(i *Invoice) { i.Network = Mainnet }), "lnbc210n", nil},
		{"testnet", base(func(i *Invoice) { i.Network = Testnet }), "lntb210n", nil},
		{"signet", base(func(i *Invoice) { i.Network = Signet }), "lntbs210n", nil},
		{"empty description", base(func(i *Invoice) { i.Description = "" }), "lnbcrt210n", nil},
		{"UTF-8 description", base(func(i *Invoice) { i.Description = "ナンセンス 1杯 ☕" }), "lnbcrt210n", nil},
		{"longest description", base(func(i *Invoice) { i.Description = strings.Repeat("é", MaxFieldBytes/2) + "x" }), "lnbcrt210n", nil},
		{"description hash", base(func(i *Invoice) {
			i.Description = ""
			i.DescriptionHash = ptr(sha256.Sum256([]byte(`[["text/plain","Pay to dev@satchel.dev"]]`)))
		}), "lnbcrt210n", nil},
		{"expiry and cltv", base(func(i *Invoice) { i.Expiry = 7 * 24 * time.Hour; i.MinFinalCLTVExpiry = 80 }), "lnbcrt210n", nil},
		{"one second expiry", base(func(i *Invoice) { i.Expiry = time.Second }), "lnbcrt210n", nil},
		{"payee in n field", base(func(i *Invoice) { i.Payee = pubOf(key) }), "lnbcrt210n", nil},
		{"features", base(func(i *Invoice) { i.Features = Features{8, 14, 17, 99} }), "lnbcrt210n", nil},
		{"metadata", base(func(i *Invoice) { i.Metadata = []byte{1, 0xfa, 0xfa, 0xf0} }), "lnbcrt210n", nil},
		{"empty metadata", base(func(i *Invoice) { i.Metadata = []byte{} }), "lnbcrt210n", nil},
		{"zero features mean the defaults", base(func(i *Invoice) { i.Features = Features{} }), "lnbcrt210n",
			func(i *Invoice) { i.Features = DefaultFeatures }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Encode(tt.in, key)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if hrp := s[:strings.LastIndexByte(s, '1')]; hrp != tt.hrp {
				t.Errorf("human-readable part = %q, want %q", hrp, tt.hrp)
			}
			want := *tt.in
			if want.Expiry == 0 {
				want.Expiry = DefaultExpiry
			}
			if want.MinFinalCLTVExpiry == 0 {
				want.MinFinalCLTVExpiry = DefaultMinFinalCLTVExpiry
			}
			if want.Features == nil {
				want.Features = DefaultFeatures
			}
			want.Payee = pubOf(key)
			if tt.want != nil {
				tt.want(&want)
			}
			for _, form := range []string{s, strings.ToUpper(s), "lightning:" + s, "LIGHTNING:" + strings.ToUpper(s)} {
				got, err := Decode(form)
				if err != nil {
					t.Fatalf("Decode(%s): %v", form, err)
				}
				if diff := cmp.Diff(&want, got); diff != "" {
					t.Errorf("Decode(Encode(x)) (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestEncodeSpecAmounts checks the shortest amount for every amount in the spec's examples.
func TestEncodeSpecAmounts(t *testing.T) {
	for msat, want := range map[int64]string{
		250_000_000:   "2500u",
		2_000_000_000: "20m",
		2_500_000_000: "25m",
		1_000_000_000: "10m",
		967878534:     "9678785340p",
		0:             "",
	} {
		if got := formatAmount(msat); got != want {
			t.Errorf("formatAmount(%d) = %q, want %q", msat, got, want)
		}
		got, err := parseAmount(want)
		if err != nil || got != msat {
			t.Errorf("parseAmount(%q) = %d, %v; want %d", want, got, err, msat)
		}
	}
}

func TestParseAmountRefuses(t *testing.T) {
	for _, a := range []string{"x", "m", "0", "0100u", "25x", "2.5m", "1p", "2500000001p", "99999999999999999999", "100000000000"} {
		if got, err := parseAmount(a); err == nil {
			t.Errorf("parseAmount(%q) = %d, want an error", a, got)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	valid := func() *Invoice {
		return &Invoice{
			Network:       Regtest,
			AmountMsat:    1000,
			Timestamp:     time.Unix(1700000000, 0),
			PaymentHash:   sha256.Sum256([]byte("p")),
			PaymentSecret: sha256.Sum256([]byte("s")),
			Description:   "d",
		}
	}
	if _, err := Encode(valid(), key); err != nil {
		t.Fatalf("the base case fails: %v", err)
	}
	tests := []struct {
		name    string
		mod     func(*Invoice)
		wantErr string
	}{
		{"unknown network", func(i *Invoice) { i.Network = "xx" }, "unknown network"},
		{"negative amount", func(i *Invoice) { i.AmountMsat = -1 }, "negative amount"},
		{"no timestamp", func(i *Invoice) { i.Timestamp = time.Time{} }, "timestamp"},
		{"timestamp beyond 35 bits", func(i *Invoice) { i.Timestamp = time.Unix(1<<35, 0) }, "timestamp"},
		{"no payment hash", func(i *Invoice) { i.PaymentHash = [32]byte{} }, "payment hash"},
		{"no payment secret", func(i *Invoice) { i.PaymentSecret = [32]byte{} }, "payment secret"},
		{"description and hash", func(i *Invoice) { i.DescriptionHash = ptr([32]byte{1}) }, "not both"},
		{"description too long", func(i *Invoice) { i.Description = strings.Repeat("a", MaxFieldBytes+1) }, "longer than 639"},
		{"description not UTF-8", func(i *Invoice) { i.Description = "\xff" }, "UTF-8"},
		{"metadata too long", func(i *Invoice) { i.Metadata = make([]byte, MaxFieldBytes+1) }, "longer than 639"},
		{"negative expiry", func(i *Invoice) { i.Expiry = -time.Second }, "expiry"},
		{"sub-second expiry", func(i *Invoice) { i.Expiry = 1500 * time.Millisecond }, "whole number of seconds"},
		{"payee of another key", func(i *Invoice) { i.Payee = pubOf(other) }, "not the signing key"},
		{"feature bit out of range", func(i *Invoice) { i.Features = Features{8, 6000} }, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := valid()
			tt.mod(inv)
			s, err := Encode(inv, key)
			if err == nil {
				t.Fatalf("Encode succeeded: %s", s)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Encode error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// signRaw builds and signs an invoice from raw parts, for invoices Encode refuses to write.
func signRaw(t *testing.T, key *btcec.PrivateKey, hrp string, fields ...[]byte) string {
	t.Helper()
	data := writeUint(nil, 1700000000, timestampLen)
	for _, f := range fields {
		data = append(data, f...)
	}
	hash := signingHash(hrp, data)
	compact := ecdsa.SignCompact(key, hash[:], true)
	data = append(data, fromBytes(append(compact[1:65:65], compact[0]-31))...)
	s, err := bech32.Encode(hrp, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func field(typ byte, v []byte) []byte { return writeField(nil, typ, v) }

func TestDecodeRefuses(t *testing.T) {
	key := newKey(t)
	p := field(fieldPaymentHash, fromBytes(bytes.Repeat([]byte{1}, 32)))
	s := field(fieldPaymentSecret, fromBytes(bytes.Repeat([]byte{2}, 32)))
	d := field(fieldDescription, fromBytes([]byte("coffee")))
	h := field(fieldDescriptionHash, fromBytes(bytes.Repeat([]byte{3}, 32)))
	tests := []struct {
		name    string
		invoice string
		wantErr string
	}{
		{"unknown network", signRaw(t, key, "lnxx", p, s, d), "unknown network prefix lnxx"},
		{"unknown network with amount", signRaw(t, key, "lnltc10m", p, s, d), "unknown network prefix lnltc"},
		{"not an invoice", signRaw(t, key, "bc", p, s, d), "not an invoice prefix"},
		{"amount with leading zero", signRaw(t, key, "lnbc010m", p, s, d), "leading zeros"},
		{"no payment hash", signRaw(t, key, "lnbc", s, d), "no payment hash"},
		{"payment hash of the wrong length only", signRaw(t, key, "lnbc", field(fieldPaymentHash, make([]byte, 51)), s, d), "no payment hash"},
		{"neither d nor h", signRaw(t, key, "lnbc", p, s), "neither a description"},
		{"both d and h", signRaw(t, key, "lnbc", p, s, d, h), "both a description"},
		{"description not UTF-8", signRaw(t, key, "lnbc", p, s, field(fieldDescription, fromBytes([]byte{0xff, 0xfe}))), "UTF-8"},
		{"non-minimal expiry", signRaw(t, key, "lnbc", p, s, d, field(fieldExpiry, []byte{0, 1, 28})), "expiry (x field) not minimally encoded"},
		{"non-minimal cltv", signRaw(t, key, "lnbc", p, s, d, field(fieldMinFinalCLTV, []byte{0, 18})), "not minimally encoded"},
		{"non-minimal features", signRaw(t, key, "lnbc", p, s, d, field(fieldFeatures, []byte{0, 16, 8, 0})), "features (9 field) not minimally"},
		{"huge expiry", signRaw(t, key, "lnbc", p, s, d, field(fieldExpiry, minimalUint(1<<62))), "too large"},
		{"expiry beyond 64 bits", signRaw(t, key, "lnbc", p, s, d, field(fieldExpiry, bytes.Repeat([]byte{31}, 13))), "too large"},
		{"unknown required feature", signRaw(t, key, "lnbc", p, s, d, field(fieldFeatures, mustFeatures(t, 8, 14, 20))), "feature bit 20"},
		{"n field not a public key", signRaw(t, key, "lnbc", p, s, d, field(fieldPayee, fromBytes(make([]byte, 33)))), "not a valid public key"},
		{"n field of another key", signRaw(t, key, "lnbc", p, s, d, field(fieldPayee, fromBytes(newKey(t).PubKey().SerializeCompressed()))), "signature does not match its payee"},
		{"field longer than the invoice", signRaw(t, key, "lnbc", p, s, d, []byte{fieldDescription, 31, 31}), "claims 1023 characters"},
		{"Bech32m checksum", withBech32mChecksum(t, signRaw(t, key, "lnbc", p, s, d)), "a Bech32m checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Decode(tt.invoice)
			if err == nil {
				t.Fatalf("Decode succeeded: %+v", inv)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Decode error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}

	// The same parts, well formed, decode: the refusals above are for the reasons given.
	inv, err := Decode(signRaw(t, key, "lnbc", p, s, d, field(fieldFeatures, mustFeatures(t, 8, 14, 21))))
	if err != nil {
		t.Fatalf("well-formed raw invoice: %v", err)
	}
	if inv.Payee != pubOf(key) || inv.Description != "coffee" || !inv.Features.Has(21) || !inv.Features.Supports(20) {
		t.Errorf("well-formed raw invoice decoded as %+v", inv)
	}
}

func mustFeatures(t *testing.T, bits ...int) []byte {
	t.Helper()
	v, err := encodeFeatures(bits)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// withBech32mChecksum returns s with a valid Bech32m checksum in place of its Bech32 one.
func withBech32mChecksum(t *testing.T, s string) string {
	t.Helper()
	hrp, data, err := bech32.DecodeNoLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := bech32.EncodeM(hrp, data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tamper returns s with the data value at i replaced by v, and a valid checksum.
func tamper(t *testing.T, s string, i int, v byte) string {
	t.Helper()
	hrp, data, err := bech32.DecodeNoLimit(s)
	if err != nil {
		t.Fatal(err)
	}
	data[i] = v
	out, err := bech32.Encode(hrp, data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTamperedInvoices changes every data character of an invoice, one at a time, and re-encodes
// it with a valid checksum: every change fails to decode or yields another payee. With an n
// field, changes fail the signature check, except two: the n field's type letter (the field is
// then skipped as unknown and recovery yields another payee), and the recovery id's lowest bit,
// which verification against n does not use (the content and payee are unchanged).
func TestTamperedInvoices(t *testing.T) {
	key := newKey(t)
	inv := &Invoice{
		Network:       Regtest,
		AmountMsat:    50_000_000,
		Timestamp:     time.Unix(1700000000, 0),
		PaymentHash:   sha256.Sum256([]byte("p")),
		PaymentSecret: sha256.Sum256([]byte("s")),
		Description:   "a game",
		Payee:         pubOf(key),
	}
	withN, err := Encode(inv, key)
	if err != nil {
		t.Fatal(err)
	}
	inv.Payee = [33]byte{}
	withoutN, err := Encode(inv, key)
	if err != nil {
		t.Fatal(err)
	}
	spec := "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh"

	for _, c := range []struct {
		name    string
		invoice string
		payee   [33]byte
		withN   bool
	}{
		{"with n field", withN, pubOf(key), true},
		{"without n field", withoutN, pubOf(key), false},
		{"spec example", spec, specPayee, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := Decode(c.invoice); err != nil || got.Payee != c.payee {
				t.Fatalf("untampered: %v", err)
			}
			_, data, _ := bech32.DecodeNoLimit(c.invoice)
			for i := range data {
				if c.withN && i == len(data)-1 {
					continue // the recovery id's lowest bit: see above
				}
				got, err := Decode(tamper(t, c.invoice, i, data[i]^1))
				if err == nil && got.Payee == c.payee {
					t.Errorf("value %d changed: decodes with the original payee", i)
				}
				if err == nil && c.withN && i < len(data)-signatureLen && !inNType(data, i) {
					t.Errorf("value %d changed: decodes despite the n field", i)
				}
			}
		})
	}

	// The message the caller sees, for a change the parse cannot notice.
	_, data, _ := bech32.DecodeNoLimit(withN)
	i := timestampLen + 3 + 10 // inside the payment hash
	_, err = Decode(tamper(t, withN, i, data[i]^1))
	if !errors.Is(err, ErrBadSignature) || err.Error() != "bolt11: invoice signature does not match its payee" {
		t.Errorf("tampered payment hash: error %v", err)
	}
}

// inNType reports whether data[i] is the type letter of an n field.
func inNType(data []byte, i int) bool {
	for j := timestampLen; j+3 <= len(data)-signatureLen; j += 3 + (int(data[j+1])<<5 | int(data[j+2])) {
		if j == i {
			return data[j] == fieldPayee
		}
	}
	return false
}

func TestExpired(t *testing.T) {
	inv := &Invoice{Timestamp: time.Unix(1000, 0), Expiry: time.Minute}
	for _, c := range []struct {
		now  time.Time
		want bool
	}{
		{time.Unix(1000, 0), false},
		{time.Unix(1059, 999), false},
		{time.Unix(1060, 0), true},
		{time.Unix(5000, 0), true},
	} {
		if got := inv.Expired(c.now); got != c.want {
			t.Errorf("Expired(%v) = %v, want %v", c.now.Unix(), got, c.want)
		}
	}
	spec, err := Decode("lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh")
	if err != nil {
		t.Fatal(err)
	}
	if !spec.Expired(time.Now()) || spec.Expired(specTime.Add(59*time.Second)) || !spec.ExpiresAt().Equal(specTime.Add(time.Minute)) {
		t.Errorf("spec example (one minute from %v): ExpiresAt %v", specTime, spec.ExpiresAt())
	}
}

func TestDescriptionMatches(t *testing.T) {
	const cake = "One piece of chocolate cake, one icecream cone, one pickle, one slice of swiss cheese, one slice of salami, one lollypop, one piece of cherry pie, one sausage, one cupcake, and one slice of watermelon"
	hashed, err := Decode("lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqs9qrsgq7ea976txfraylvgzuxs8kgcw23ezlrszfnh8r6qtfpr6cxga50aj6txm9rxrydzd06dfeawfk6swupvz4erwnyutnjq7x39ymw6j38gp7ynn44")
	if err != nil {
		t.Fatal(err)
	}
	if !hashed.DescriptionMatches(cake) || hashed.DescriptionMatches(cake+".") {
		t.Error("hashed description: DescriptionMatches disagrees with the spec's SHA-256")
	}
	plain := &Invoice{Description: "coffee"}
	if !plain.DescriptionMatches("coffee") || plain.DescriptionMatches("tea") {
		t.Error("plain description: DescriptionMatches wrong")
	}
}
