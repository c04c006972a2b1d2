package difftest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/lightningnetwork/lnd/lnwire"
	"github.com/lightningnetwork/lnd/zpay32"

	"satchel.dev/backend/lightning/bolt11"
)

// zpay32's refusal of an invoice longer than this (its anti-DoS limit, the size of the largest
// QR code) is not a disagreement: bolt11 sets no length limit.
const zpay32MaxLength = 7089

// Field types bolt11 skips without reading them, where zpay32 parses and may refuse: r (route
// hints), f (fallback address) and b (blinded paths).
const (
	fieldRouteHint   = 3
	fieldFallback    = 9
	fieldBlindedPath = 20
	fieldMinCLTV     = 24
)

// stricter are the refusals in which bolt11 is deliberately stricter than zpay32 (its doc comment
// lists them): an invoice zpay32 accepts may be refused only with one of these in the message.
var stricter = []string{
	"not minimally encoded",                   // x, c and 9 fields with a leading zero
	"no payment secret",                       // a missing s field
	"which this payer does not know",          // an unknown required feature
	"high-S",                                  // a high-S signature with an n field
	"must be positive, with no leading zeros", // amounts such as 0 or 0100u
	"too large",                               // amounts and expiries that overflow
}

// networks maps invoice prefixes to zpay32's chain parameters, longest first.
var networks = []struct {
	prefix, network string
	params          *chaincfg.Params
}{
	{"lnbcrt", bolt11.Regtest, &chaincfg.RegressionNetParams},
	{"lntbs", bolt11.Signet, &chaincfg.SigNetParams},
	{"lntb", bolt11.Testnet, &chaincfg.TestNet3Params},
	{"lnbc", bolt11.Mainnet, &chaincfg.MainNetParams},
}

// paramsFor returns the chain parameters zpay32 must be given to decode s, mainnet when no
// known prefix matches (zpay32 then refuses it, as bolt11 does).
func paramsFor(s string) *chaincfg.Params {
	lower := strings.ToLower(s)
	for _, n := range networks {
		if strings.HasPrefix(lower, n.prefix) {
			return n.params
		}
	}
	return &chaincfg.MainNetParams
}

// FuzzDecode gives both decoders the same string, and also the string with its last six
// characters replaced by a valid checksum (so mutations reach the fields, not only the
// checksum). Whatever bolt11 accepts, zpay32 accepts with the same content, except for the
// differences listed in tolerated; whatever zpay32 accepts and bolt11 refuses, bolt11 refuses
// for a reason in stricter.
func FuzzDecode(f *testing.F) {
	for _, s := range encodedSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		compareDecode(t, s)
		if fixed, ok := withValidChecksum(s); ok {
			compareDecode(t, fixed)
		}
	})
}

func compareDecode(t *testing.T, s string) {
	if strings.TrimSpace(s) != s || strings.HasPrefix(strings.ToLower(s), "lightning:") {
		return // bolt11 also accepts these forms, zpay32 never does
	}
	ours, errOurs := bolt11.Decode(s)
	theirs, errTheirs := zpay32.Decode(s, paramsFor(s))
	switch {
	case errOurs == nil && errTheirs != nil:
		if !tolerated(s, errTheirs) {
			t.Fatalf("bolt11 accepts what zpay32 refuses (%v):\n%s", errTheirs, s)
		}
	case errOurs != nil && errTheirs == nil:
		if !slices.ContainsFunc(stricter, func(m string) bool { return strings.Contains(errOurs.Error(), m) }) {
			t.Fatalf("bolt11 refuses what zpay32 accepts, for a reason not listed as stricter (%v):\n%s", errOurs, s)
		}
	case errOurs == nil:
		compareInvoices(t, s, ours, theirs)
	}
}

// tolerated reports whether zpay32's refusal err of s, which bolt11 accepts, is a known
// difference: an invoice beyond zpay32's length limit, a field bolt11 skips unread, or
// non-zero padding bits in a field (which the spec asks writers to avoid and readers not to
// check, and which zpay32 refuses).
func tolerated(s string, err error) bool {
	if len(s) > zpay32MaxLength || errors.As(err, new(bech32.ErrInvalidIncompleteGroup)) {
		return true
	}
	types := fieldTypes(s)
	return types[fieldRouteHint] || types[fieldFallback] || types[fieldBlindedPath]
}

// compareInvoices fails the test unless ours and theirs, both decoded from s, say the same.
func compareInvoices(t *testing.T, s string, ours *bolt11.Invoice, theirs *zpay32.Invoice) {
	t.Helper()
	var diffs []string
	check := func(what string, same bool) {
		if !same {
			diffs = append(diffs, what)
		}
	}
	for _, n := range networks {
		if n.params == theirs.Net {
			check("network", n.network == ours.Network)
		}
	}
	var theirAmount int64
	if theirs.MilliSat != nil {
		theirAmount = int64(*theirs.MilliSat)
	}
	check("amount", ours.AmountMsat == theirAmount)
	check("timestamp", ours.Timestamp.Unix() == theirs.Timestamp.Unix())
	check("payment hash", theirs.PaymentHash != nil && ours.PaymentHash == *theirs.PaymentHash)
	check("payment secret", ours.PaymentSecret == theirs.PaymentAddr.UnwrapOr([32]byte{}))
	if theirs.Description != nil {
		check("description", ours.Description == *theirs.Description)
	} else {
		check("description", ours.Description == "")
	}
	if theirs.DescriptionHash != nil {
		check("description hash", ours.DescriptionHash != nil && *ours.DescriptionHash == *theirs.DescriptionHash)
	} else {
		check("description hash", ours.DescriptionHash == nil)
	}
	check("expiry", ours.Expiry == theirs.Expiry())
	// Without a c field the spec's default is 18; zpay32 assumes 24.
	if fieldTypes(s)[fieldMinCLTV] {
		check("min final CLTV expiry", ours.MinFinalCLTVExpiry == theirs.MinFinalCLTVExpiry())
	}
	check("payee", bytes.Equal(ours.Payee[:], theirs.Destination.SerializeCompressed()))
	var theirFeatures []int
	for b := range theirs.Features.Features() {
		theirFeatures = append(theirFeatures, int(b))
	}
	slices.Sort(theirFeatures)
	check("features", slices.Equal([]int(ours.Features), theirFeatures))
	check("metadata", bytes.Equal(ours.Metadata, theirs.Metadata) && (ours.Metadata == nil) == (theirs.Metadata == nil))
	if len(diffs) > 0 {
		t.Fatalf("bolt11 and zpay32 decode different %s from\n%s\nbolt11: %+v\nzpay32: %+v",
			strings.Join(diffs, ", "), s, ours, theirs)
	}
}

// FuzzEncode builds an invoice from the fuzzer's values, encodes it with each implementation,
// and has the other decode it to the same content.
func FuzzEncode(f *testing.F) {
	f.Add(byte(0), uint64(50_000_000), uint32(1_700_000_000), []byte("hash"), "a game", false, uint32(900), uint16(18), false, []byte(nil), uint64(1<<8|1<<14))
	f.Add(byte(3), uint64(0), uint32(1), []byte("h"), "", true, uint32(0), uint16(0), true, []byte{1, 2}, uint64(1<<9|1<<15|1<<17))
	f.Add(byte(1), uint64(1), uint32(1<<31), []byte{}, "ナンセンス", false, uint32(604800), uint16(144), true, []byte{0xff}, uint64(0))
	f.Fuzz(func(t *testing.T, net byte, amount uint64, ts uint32, seed []byte, desc string, hashDesc bool,
		expirySecs uint32, cltv uint16, withPayee bool, metadata []byte, features uint64) {
		n := networks[int(net)%len(networks)]
		key := keyFrom(seed)
		inv := &bolt11.Invoice{
			Network:            n.network,
			AmountMsat:         int64(amount >> 1),
			Timestamp:          time.Unix(int64(ts), 0),
			PaymentHash:        sha256.Sum256(append([]byte("p"), seed...)),
			PaymentSecret:      sha256.Sum256(append([]byte("s"), seed...)),
			Description:        desc,
			Expiry:             time.Duration(expirySecs) * time.Second,
			MinFinalCLTVExpiry: uint64(cltv),
			Metadata:           metadata,
		}
		if hashDesc {
			h := sha256.Sum256([]byte(desc))
			inv.Description, inv.DescriptionHash = "", &h
		}
		if withPayee {
			copy(inv.Payee[:], key.PubKey().SerializeCompressed())
		}
		for b := range 64 {
			if features>>b&1 == 1 && (b%2 == 1 || knownRequired[b]) {
				inv.Features = append(inv.Features, b)
			}
		}

		ours, err := bolt11.Encode(inv, key)
		if err != nil {
			return // a value bolt11 refuses to write: nothing to compare
		}
		theirs, err := zpay32.Decode(ours, n.params)
		if err != nil {
			if len(ours) > zpay32MaxLength {
				return
			}
			t.Fatalf("zpay32 refuses what bolt11 wrote (%v):\n%s", err, ours)
		}
		decoded, err := bolt11.Decode(ours)
		if err != nil {
			t.Fatalf("bolt11 refuses what it wrote (%v):\n%s", err, ours)
		}
		compareInvoices(t, ours, decoded, theirs)

		written, err := zpay32Encode(theirs, key)
		if err != nil {
			t.Fatalf("zpay32 cannot encode what it decoded: %v", err)
		}
		back, err := bolt11.Decode(written)
		if err != nil {
			t.Fatalf("bolt11 refuses what zpay32 wrote (%v):\n%s", err, written)
		}
		compareInvoices(t, written, back, theirs)
	})
}

// knownRequired are the even feature bits bolt11.Decode accepts (bolt11's knownFeatures):
// Encode writes any bit, so FuzzEncode sets no other even one.
var knownRequired = map[int]bool{
	bolt11.FeatureVarOnionOptin: true, bolt11.FeaturePaymentSecret: true, bolt11.FeatureBasicMPP: true,
	bolt11.FeatureRouteBlinding: true, bolt11.FeatureAttributionData: true, bolt11.FeaturePaymentMetadata: true,
}

// keyFrom derives a valid signing key from the fuzzer's bytes.
func keyFrom(seed []byte) *btcec.PrivateKey {
	h := sha256.Sum256(append([]byte("key"), seed...))
	key, _ := btcec.PrivKeyFromBytes(h[:])
	return key
}

// zpay32Encode has zpay32 write inv, signed with key.
func zpay32Encode(inv *zpay32.Invoice, key *btcec.PrivateKey) (string, error) {
	return inv.Encode(zpay32.MessageSigner{SignCompact: func(msg []byte) ([]byte, error) {
		return ecdsa.SignCompact(key, chainhash.HashB(msg), true), nil
	}})
}

// encodedSeeds are invoices both implementations write, for the decoder's corpus beside the
// BOLT 11 examples in testdata/fuzz/FuzzDecode.
func encodedSeeds(tb testing.TB) []string {
	key := keyFrom(nil)
	var payee [33]byte
	copy(payee[:], key.PubKey().SerializeCompressed())
	h := sha256.Sum256([]byte("description"))
	ours := []*bolt11.Invoice{
		{Network: bolt11.Regtest, AmountMsat: 50_000_000, Description: "a game"},
		{Network: bolt11.Mainnet, DescriptionHash: &h, Metadata: []byte{1, 2, 3}, Features: bolt11.Features{8, 14, 17}},
		{Network: bolt11.Signet, AmountMsat: 1, Description: "odd amount", Expiry: 7 * 24 * time.Hour, MinFinalCLTVExpiry: 144},
		{Network: bolt11.Testnet, AmountMsat: 2_100_000_000_000_000, Description: "with payee", Payee: payee},
	}
	var seeds []string
	for i, inv := range ours {
		inv.Timestamp = time.Unix(1_700_000_000+int64(i), 0)
		inv.PaymentHash = sha256.Sum256([]byte{'p', byte(i)})
		inv.PaymentSecret = sha256.Sum256([]byte{'s', byte(i)})
		s, err := bolt11.Encode(inv, key)
		if err != nil {
			tb.Fatal(err)
		}
		seeds = append(seeds, s)
	}

	// zpay32 writes route hints and fallback addresses, which bolt11 skips when it reads them.
	withHints, err := zpay32.Decode(seeds[0], &chaincfg.RegressionNetParams)
	if err != nil {
		tb.Fatal(err)
	}
	withHints.RouteHints = [][]zpay32.HopHint{{{
		NodeID: key.PubKey(), ChannelID: 0x0102030405060708,
		FeeBaseMSat: 1000, FeeProportionalMillionths: 1, CLTVExpiryDelta: 40,
	}}}
	if withHints.FallbackAddr, err = btcutil.NewAddressWitnessPubKeyHash(make([]byte, 20), &chaincfg.RegressionNetParams); err != nil {
		tb.Fatal(err)
	}
	withHints.Features = lnwire.NewFeatureVector(lnwire.NewRawFeatureVector(8, 14, 16), lnwire.Features)
	s, err := zpay32Encode(withHints, key)
	if err != nil {
		tb.Fatal(err)
	}
	return append(seeds, s)
}

// bech32Alphabet is the Bech32 character set: the character at index v encodes the value v.
const bech32Alphabet = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// withValidChecksum returns s with its last six characters replaced by a valid Bech32 checksum,
// or false when s has no separator and checksum, or a data character outside the alphabet.
func withValidChecksum(s string) (string, bool) {
	lower := strings.ToLower(s)
	one := strings.LastIndexByte(lower, '1')
	if one < 1 || len(lower)-one-1 < 6 {
		return "", false
	}
	var data []byte
	for _, c := range []byte(lower[one+1 : len(lower)-6]) {
		v := strings.IndexByte(bech32Alphabet, c)
		if v < 0 {
			return "", false
		}
		data = append(data, byte(v))
	}
	fixed, err := bech32.Encode(lower[:one], data)
	return fixed, err == nil
}

// fieldTypes returns the types of the tagged fields in invoice s, walked as the spec lays them
// out (nil when s does not decode that far).
func fieldTypes(s string) map[byte]bool {
	_, data, err := bech32.DecodeNoLimit(s)
	const timestampLen, signatureLen = 7, 104
	if err != nil || len(data) < timestampLen+signatureLen {
		return nil
	}
	fields := data[timestampLen : len(data)-signatureLen]
	types := map[byte]bool{}
	for len(fields) >= 3 {
		n := int(fields[1])<<5 | int(fields[2])
		types[fields[0]] = true
		fields = fields[min(len(fields), 3+n):]
	}
	return types
}
