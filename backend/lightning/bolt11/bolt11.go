// Package bolt11 encodes and signs, and decodes and verifies, BOLT 11 Lightning invoices
// (lightning/bolts, 11-payment-encoding.md).
//
// Decode is the reader of the spec: it accepts what a payer may pay and refuses the rest, with
// a message saying what is wrong. Encode is the writer: it produces the fields LND and the other
// implementations expect (p, s, d or h, x, c, 9; and n when asked), with the shortest amount.
//
// Fields this package does not model (f fallback addresses, r route hints and any unknown type)
// are skipped by Decode, as the spec requires, and never written by Encode.
package bolt11

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcutil/bech32"
)

// Networks, as they appear in an invoice's prefix after "ln".
const (
	Mainnet = "bc"   // lnbc
	Testnet = "tb"   // lntb
	Signet  = "tbs"  // lntbs
	Regtest = "bcrt" // lnbcrt
)

// Defaults the spec gives fields an invoice leaves out.
const (
	DefaultExpiry             = time.Hour
	DefaultMinFinalCLTVExpiry = 18
)

// MaxFieldBytes is the most bytes a tagged field can hold (1023 5-bit values): the longest
// description (d) or metadata (m) an invoice can carry. Longer descriptions go in h as a hash.
const MaxFieldBytes = 639

// Feature bits of BOLT 9 used in invoices (even: required, odd: optional).
const (
	FeatureVarOnionOptin   = 8
	FeaturePaymentSecret   = 14
	FeatureBasicMPP        = 16
	FeatureRouteBlinding   = 24
	FeatureAttributionData = 36
	FeaturePaymentMetadata = 48
)

// knownFeatures are the features Decode accepts as required (their even bit set). An invoice
// requiring any other feature is refused, as the spec's "it's ok to be odd" rule demands.
var knownFeatures = map[int]bool{
	FeatureVarOnionOptin:   true,
	FeaturePaymentSecret:   true,
	FeatureBasicMPP:        true,
	FeatureRouteBlinding:   true,
	FeatureAttributionData: true,
	FeaturePaymentMetadata: true,
}

// DefaultFeatures are the features Encode writes when Invoice.Features is empty:
// var_onion_optin and payment_secret, both required, as LND's own invoices have them.
var DefaultFeatures = Features{FeatureVarOnionOptin, FeaturePaymentSecret}

// Features is the set of feature bits an invoice sets (its 9 field), as bit numbers in
// ascending order. Bit 0 is the least significant bit of the field.
type Features []int

// Has reports whether bit itself is set.
func (f Features) Has(bit int) bool {
	for _, b := range f {
		if b == bit {
			return true
		}
	}
	return false
}

// Supports reports whether the feature whose pair starts at the even bit feature is set, as
// required (even) or optional (odd).
func (f Features) Supports(feature int) bool {
	even := feature &^ 1
	return f.Has(even) || f.Has(even+1)
}

// Invoice is a BOLT 11 invoice, decoded or to encode.
type Invoice struct {
	Network    string // "bc", "tb", "tbs" or "bcrt": the prefix after "ln"
	AmountMsat int64  // 0: the invoice names no amount
	// Timestamp is when the invoice was made, to the second.
	Timestamp     time.Time
	PaymentHash   [32]byte
	PaymentSecret [32]byte
	// Description is the d field. When DescriptionHash is set, the invoice has an h field
	// instead and Description is empty.
	Description     string
	DescriptionHash *[32]byte
	// Expiry is how long after Timestamp the invoice may be paid (x field; DefaultExpiry when
	// absent).
	Expiry time.Duration
	// MinFinalCLTVExpiry is the c field (DefaultMinFinalCLTVExpiry when absent).
	MinFinalCLTVExpiry uint64
	// Payee is the compressed public key of the node to pay: recovered from the signature, or
	// the n field when the invoice has one. For Encode, a non-zero Payee is written as an n
	// field and must be the signing key's.
	Payee [33]byte
	// Features are the 9 field's bits; Encode writes DefaultFeatures when empty.
	Features Features
	// Metadata is the m field (payment_metadata), nil when absent.
	Metadata []byte
}

// ExpiresAt is the moment the invoice expires: Timestamp + Expiry.
func (inv *Invoice) ExpiresAt() time.Time { return inv.Timestamp.Add(inv.Expiry) }

// Expired reports whether the invoice can no longer be paid at now: now is at or after
// Timestamp + Expiry.
func (inv *Invoice) Expired(now time.Time) bool { return !now.Before(inv.ExpiresAt()) }

// DescriptionMatches reports whether desc is the invoice's description: equal to its d field,
// or hashing (SHA-256 of its exact bytes) to its h field. A payer given a description out of
// band (LNURL-pay's metadata) must check it.
func (inv *Invoice) DescriptionMatches(desc string) bool {
	if inv.DescriptionHash != nil {
		return sha256.Sum256([]byte(desc)) == *inv.DescriptionHash
	}
	return desc == inv.Description
}

// ErrBadSignature is returned (wrapped) by Decode when the signature cannot be verified: it
// does not match the n field, or no public key can be recovered from it.
var ErrBadSignature = errors.New("bolt11: invoice signature does not match its payee")

// fieldLetters is the Bech32 alphabet: the letter at index v names the field type v.
const fieldLetters = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// Field types (the 5-bit value of each letter in the Bech32 alphabet).
const (
	fieldPaymentHash     = 1  // p
	fieldRouteHint       = 3  // r (skipped)
	fieldFeatures        = 5  // 9
	fieldExpiry          = 6  // x
	fieldFallback        = 9  // f (skipped)
	fieldDescription     = 13 // d
	fieldPaymentSecret   = 16 // s
	fieldPayee           = 19 // n
	fieldDescriptionHash = 23 // h
	fieldMinFinalCLTV    = 24 // c
	fieldMetadata        = 27 // m
)

const (
	timestampLen = 7   // 35 bits
	signatureLen = 104 // 520 bits: R (32 bytes), S (32 bytes), recovery id (1 byte)
	hashLen      = 52  // 256 bits, padded: p, s, h
	pubkeyLen    = 53  // 264 bits, padded: n
	maxFieldLen  = 1023
)

// msatPer is the number of millisatoshi in one unit of each amount multiplier; the
// empty multiplier is a whole bitcoin. 'p' (0.1 msat) is handled apart.
var msatPer = map[byte]int64{
	0:   100_000_000_000,
	'm': 100_000_000,
	'u': 100_000,
	'n': 100,
}

func knownNetwork(n string) bool {
	return n == Mainnet || n == Testnet || n == Signet || n == Regtest
}

// Decode parses the BOLT 11 invoice s and verifies its signature. s may be in upper or lower
// case (not mixed) and may start with "lightning:".
//
// It refuses an unknown network prefix, a malformed amount (an unknown multiplier, a 'p'
// amount that is not a whole number of millisatoshi), a missing p or s field, neither or both
// of d and h, non-minimal x, c or 9 fields, a required feature it does not know, and a
// signature that does not verify (ErrBadSignature). When the invoice has an n field the
// signature is checked against it and must be low-S; otherwise the payee is the key
// recovered from the signature. Fields of a known type with the wrong length are skipped, as
// are fields of unknown types; of repeated fields the first counts.
//
// Without an n field any well-formed signature recovers some key, so a tampered invoice
// decodes with a different Payee: a caller that knows whom it expects to pay must compare.
func Decode(s string) (*Invoice, error) {
	s = strings.TrimSpace(s)
	if len(s) >= len("lightning:") && strings.EqualFold(s[:len("lightning:")], "lightning:") {
		s = s[len("lightning:"):]
	}
	hrp, data, version, err := bech32.DecodeNoLimitWithVersion(s)
	if err != nil {
		return nil, fmt.Errorf("bolt11: not a valid invoice: bech32: %w", err)
	}
	if version != bech32.Version0 {
		return nil, errors.New("bolt11: not a valid invoice: a Bech32m checksum, invoices use Bech32")
	}
	inv := &Invoice{Expiry: DefaultExpiry, MinFinalCLTVExpiry: DefaultMinFinalCLTVExpiry}
	if inv.Network, inv.AmountMsat, err = parseHRP(hrp); err != nil {
		return nil, err
	}
	if len(data) < timestampLen+signatureLen {
		return nil, fmt.Errorf("bolt11: invoice too short: %d data characters, at least %d needed for a timestamp and a signature",
			len(data), timestampLen+signatureLen)
	}
	signed, sig := data[:len(data)-signatureLen], data[len(data)-signatureLen:]
	ts, _ := readUint(signed[:timestampLen])
	inv.Timestamp = time.Unix(int64(ts), 0).UTC()

	var havePayee bool
	if err := inv.parseFields(signed[timestampLen:], &havePayee); err != nil {
		return nil, err
	}
	if err := inv.verify(hrp, signed, sig, havePayee); err != nil {
		return nil, err
	}
	return inv, nil
}

// parseHRP splits the human-readable part into network and amount.
func parseHRP(hrp string) (network string, msat int64, err error) {
	if !strings.HasPrefix(hrp, "ln") {
		return "", 0, fmt.Errorf("bolt11: %q is not an invoice prefix: invoices start with ln (lnbc, lntb, lnbcrt)", hrp)
	}
	rest := hrp[2:]
	i := strings.IndexAny(rest, "0123456789")
	if i < 0 {
		i = len(rest)
	}
	network, amount := rest[:i], rest[i:]
	if !knownNetwork(network) {
		return "", 0, fmt.Errorf("bolt11: unknown network prefix ln%s (known: lnbc, lntb, lntbs, lnbcrt)", network)
	}
	msat, err = parseAmount(amount)
	return network, msat, err
}

// parseAmount turns the amount of the human-readable part into millisatoshi ("" is 0).
func parseAmount(a string) (int64, error) {
	if a == "" {
		return 0, nil
	}
	digits, mult := a, byte(0)
	if c := a[len(a)-1]; c < '0' || c > '9' {
		digits, mult = a[:len(a)-1], c
	}
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, fmt.Errorf("bolt11: invalid amount %q: want digits and an optional multiplier m, u, n or p", a)
	}
	if digits[0] == '0' {
		return 0, fmt.Errorf("bolt11: invalid amount %q: must be positive, with no leading zeros", a)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bolt11: invalid amount %q: too large", a)
	}
	if mult == 'p' {
		if n%10 != 0 {
			return 0, fmt.Errorf("bolt11: invalid amount %q: a pico-bitcoin amount must end in 0 (a whole number of millisatoshi)", a)
		}
		return n / 10, nil
	}
	per, ok := msatPer[mult]
	if !ok {
		return 0, fmt.Errorf("bolt11: invalid amount %q: unknown multiplier %q (want m, u, n or p)", a, mult)
	}
	if n > math.MaxInt64/per {
		return 0, fmt.Errorf("bolt11: invalid amount %q: too large", a)
	}
	return n * per, nil
}

// parseFields reads the tagged fields into inv and checks the spec's rules on them.
func (inv *Invoice) parseFields(fields []byte, havePayee *bool) error {
	var haveHash, haveSecret, haveDesc, haveExpiry, haveCLTV, haveFeatures bool
	for len(fields) > 0 {
		if len(fields) < 3 {
			return fmt.Errorf("bolt11: truncated tagged field at the end of the invoice")
		}
		typ, n := fields[0], int(fields[1])<<5|int(fields[2])
		if len(fields) < 3+n {
			return fmt.Errorf("bolt11: tagged field %c claims %d characters, only %d left", fieldLetters[typ], n, len(fields)-3)
		}
		v := fields[3 : 3+n]
		fields = fields[3+n:]

		switch typ {
		case fieldPaymentHash:
			if n == hashLen && !haveHash {
				copy(inv.PaymentHash[:], toBytes(v))
				haveHash = true
			}
		case fieldPaymentSecret:
			if n == hashLen && !haveSecret {
				copy(inv.PaymentSecret[:], toBytes(v))
				haveSecret = true
			}
		case fieldDescription:
			if !haveDesc {
				b := toBytes(v)
				if !utf8.Valid(b) {
					return fmt.Errorf("bolt11: description (d field) is not valid UTF-8")
				}
				inv.Description = string(b)
				haveDesc = true
			}
		case fieldDescriptionHash:
			if n == hashLen && inv.DescriptionHash == nil {
				var h [32]byte
				copy(h[:], toBytes(v))
				inv.DescriptionHash = &h
			}
		case fieldPayee:
			if n == pubkeyLen && !*havePayee {
				b := toBytes(v)
				if _, err := btcec.ParsePubKey(b); err != nil {
					return fmt.Errorf("bolt11: payee (n field) is not a valid public key: %v", err)
				}
				copy(inv.Payee[:], b)
				*havePayee = true
			}
		case fieldExpiry:
			if !haveExpiry {
				secs, err := readMinimalUint(v, "expiry (x field)")
				if err != nil {
					return err
				}
				if secs > math.MaxInt64/uint64(time.Second) {
					return fmt.Errorf("bolt11: expiry (x field) of %d seconds is too large", secs)
				}
				inv.Expiry = time.Duration(secs) * time.Second
				haveExpiry = true
			}
		case fieldMinFinalCLTV:
			if !haveCLTV {
				c, err := readMinimalUint(v, "min_final_cltv_expiry_delta (c field)")
				if err != nil {
					return err
				}
				inv.MinFinalCLTVExpiry = c
				haveCLTV = true
			}
		case fieldFeatures:
			if !haveFeatures {
				f, err := parseFeatures(v)
				if err != nil {
					return err
				}
				inv.Features = f
				haveFeatures = true
			}
		case fieldMetadata:
			if inv.Metadata == nil {
				inv.Metadata = toBytes(v)
			}
		default: // fieldRouteHint, fieldFallback and unknown types: skipped
		}
	}
	switch {
	case !haveHash:
		return fmt.Errorf("bolt11: invoice has no payment hash (p field)")
	case !haveSecret:
		return fmt.Errorf("bolt11: invoice has no payment secret (s field)")
	case haveDesc && inv.DescriptionHash != nil:
		return fmt.Errorf("bolt11: invoice has both a description (d) and a description hash (h): it must have exactly one")
	case !haveDesc && inv.DescriptionHash == nil:
		return fmt.Errorf("bolt11: invoice has neither a description (d) nor a description hash (h)")
	}
	return nil
}

// parseFeatures reads the 9 field and refuses required features this package does not know.
func parseFeatures(v []byte) (Features, error) {
	if len(v) > 0 && v[0] == 0 {
		return nil, fmt.Errorf("bolt11: features (9 field) not minimally encoded: starts with a zero")
	}
	var f Features
	for i := len(v) - 1; i >= 0; i-- {
		for b := 0; b < 5; b++ {
			if v[i]>>b&1 == 1 {
				f = append(f, (len(v)-1-i)*5+b)
			}
		}
	}
	for _, bit := range f {
		if bit%2 == 0 && !knownFeatures[bit] {
			return nil, fmt.Errorf("bolt11: invoice requires feature bit %d, which this payer does not know", bit)
		}
	}
	return f, nil
}

// verify checks the signature over hrp and the signed data, and sets inv.Payee when the
// invoice has no n field.
func (inv *Invoice) verify(hrp string, signed, sig5 []byte, havePayee bool) error {
	hash := signingHash(hrp, signed)
	sig, err := bech32.ConvertBits(sig5, 5, 8, false)
	if err != nil || len(sig) != 65 {
		return fmt.Errorf("%w: malformed signature", ErrBadSignature)
	}
	recID := sig[64]
	if recID > 3 {
		return fmt.Errorf("%w: recovery id %d is not in 0..3", ErrBadSignature, recID)
	}
	if havePayee {
		var r, s btcec.ModNScalar
		if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:64]) || r.IsZero() || s.IsZero() {
			return fmt.Errorf("%w: malformed signature", ErrBadSignature)
		}
		if s.IsOverHalfOrder() {
			return fmt.Errorf("%w: high-S signature with an n field (must be low-S)", ErrBadSignature)
		}
		pub, err := btcec.ParsePubKey(inv.Payee[:])
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		if !ecdsa.NewSignature(&r, &s).Verify(hash[:], pub) {
			return ErrBadSignature
		}
		return nil
	}
	compact := make([]byte, 0, 65)
	compact = append(compact, 27+4+recID) // compressed-key recovery code, as btcec wants it
	compact = append(compact, sig[:64]...)
	pub, _, err := ecdsa.RecoverCompact(compact, hash[:])
	if err != nil {
		return fmt.Errorf("%w: no public key can be recovered from it: %v", ErrBadSignature, err)
	}
	copy(inv.Payee[:], pub.SerializeCompressed())
	return nil
}

// signingHash is the SHA-256 of the human-readable part's bytes followed by the data part
// before the signature, padded with zero bits to whole bytes.
func signingHash(hrp string, data5 []byte) [32]byte {
	b, _ := bech32.ConvertBits(data5, 5, 8, true) // values are all 5-bit: cannot fail
	return sha256.Sum256(append([]byte(hrp), b...))
}

// Encode returns inv as a BOLT 11 invoice signed with key, in lower case.
//
// It writes p, s, d (or h when DescriptionHash is set), x, c, n (only when Payee is set: it
// must then be key's public key), 9 (DefaultFeatures when Features is empty) and m (when
// Metadata is not nil). Zero Expiry and MinFinalCLTVExpiry mean the defaults. The amount uses
// the shortest representation.
//
// It refuses an unknown network, a negative amount, a zero or pre-1970 timestamp, a zero
// payment hash or secret, both Description and DescriptionHash set, a description or metadata
// longer than MaxFieldBytes or not valid UTF-8, and an Expiry that is negative or not whole
// seconds.
func Encode(inv *Invoice, key *btcec.PrivateKey) (string, error) {
	if key == nil {
		return "", errors.New("bolt11: encode: no signing key")
	}
	if !knownNetwork(inv.Network) {
		return "", fmt.Errorf("bolt11: encode: unknown network %q (want bc, tb, tbs or bcrt)", inv.Network)
	}
	if inv.AmountMsat < 0 {
		return "", fmt.Errorf("bolt11: encode: negative amount %d msat", inv.AmountMsat)
	}
	ts := inv.Timestamp.Unix()
	if inv.Timestamp.IsZero() || ts < 0 || ts >= 1<<35 {
		return "", fmt.Errorf("bolt11: encode: timestamp %v is not set or out of range", inv.Timestamp)
	}
	if inv.PaymentHash == [32]byte{} {
		return "", errors.New("bolt11: encode: payment hash not set")
	}
	if inv.PaymentSecret == [32]byte{} {
		return "", errors.New("bolt11: encode: payment secret not set")
	}
	if inv.DescriptionHash != nil && inv.Description != "" {
		return "", errors.New("bolt11: encode: set Description or DescriptionHash, not both")
	}
	if len(inv.Description) > MaxFieldBytes {
		return "", fmt.Errorf("bolt11: encode: description of %d bytes is longer than %d: put its hash in DescriptionHash", len(inv.Description), MaxFieldBytes)
	}
	if !utf8.ValidString(inv.Description) {
		return "", errors.New("bolt11: encode: description is not valid UTF-8")
	}
	if len(inv.Metadata) > MaxFieldBytes {
		return "", fmt.Errorf("bolt11: encode: metadata of %d bytes is longer than %d", len(inv.Metadata), MaxFieldBytes)
	}
	expiry := inv.Expiry
	if expiry == 0 {
		expiry = DefaultExpiry
	}
	if expiry < 0 || expiry%time.Second != 0 {
		return "", fmt.Errorf("bolt11: encode: expiry %v must be a positive whole number of seconds", inv.Expiry)
	}
	cltv := inv.MinFinalCLTVExpiry
	if cltv == 0 {
		cltv = DefaultMinFinalCLTVExpiry
	}
	pub := key.PubKey().SerializeCompressed()
	if inv.Payee != [33]byte{} && !bytes.Equal(inv.Payee[:], pub) {
		return "", fmt.Errorf("bolt11: encode: payee %x is not the signing key's public key %x", inv.Payee, pub)
	}
	features := inv.Features
	if len(features) == 0 {
		features = DefaultFeatures
	}

	hrp := "ln" + inv.Network + formatAmount(inv.AmountMsat)
	data := writeUint(nil, uint64(ts), timestampLen)
	data = writeField(data, fieldPaymentHash, fromBytes(inv.PaymentHash[:]))
	data = writeField(data, fieldPaymentSecret, fromBytes(inv.PaymentSecret[:]))
	if inv.DescriptionHash != nil {
		data = writeField(data, fieldDescriptionHash, fromBytes(inv.DescriptionHash[:]))
	} else {
		data = writeField(data, fieldDescription, fromBytes([]byte(inv.Description)))
	}
	data = writeField(data, fieldExpiry, minimalUint(uint64(expiry/time.Second)))
	data = writeField(data, fieldMinFinalCLTV, minimalUint(cltv))
	if inv.Payee != [33]byte{} {
		data = writeField(data, fieldPayee, fromBytes(pub))
	}
	f, err := encodeFeatures(features)
	if err != nil {
		return "", err
	}
	data = writeField(data, fieldFeatures, f)
	if inv.Metadata != nil {
		data = writeField(data, fieldMetadata, fromBytes(inv.Metadata))
	}

	hash := signingHash(hrp, data)
	compact := ecdsa.SignCompact(key, hash[:], true) // recovery code, R, S
	sig := append(compact[1:65:65], compact[0]-27-4)
	data = append(data, fromBytes(sig)...)
	return bech32.Encode(hrp, data)
}

// formatAmount is the shortest amount for msat in the human-readable part ("" for 0).
func formatAmount(msat int64) string {
	if msat == 0 {
		return ""
	}
	for _, m := range []byte{0, 'm', 'u', 'n'} {
		if per := msatPer[m]; msat%per == 0 {
			s := strconv.FormatInt(msat/per, 10)
			if m != 0 {
				s += string(m)
			}
			return s
		}
	}
	return strconv.FormatInt(msat, 10) + "0p"
}

func encodeFeatures(f Features) ([]byte, error) {
	top := -1
	for _, b := range f {
		if b < 0 || b >= maxFieldLen*5 {
			return nil, fmt.Errorf("bolt11: encode: feature bit %d out of range", b)
		}
		top = max(top, b)
	}
	v := make([]byte, top/5+1)
	for _, b := range f {
		v[len(v)-1-b/5] |= 1 << (b % 5)
	}
	return v, nil
}

// writeField appends a tagged field. Callers keep v within maxFieldLen (MaxFieldBytes).
func writeField(data []byte, typ byte, v []byte) []byte {
	data = append(data, typ, byte(len(v)>>5), byte(len(v)&31))
	return append(data, v...)
}

// writeUint appends v as n 5-bit values, big-endian.
func writeUint(data []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		data = append(data, byte(v>>(5*uint(i)))&31)
	}
	return data
}

// minimalUint is v in as few 5-bit values as possible (none for 0).
func minimalUint(v uint64) []byte {
	n := 0
	for x := v; x > 0; x >>= 5 {
		n++
	}
	return writeUint(nil, v, n)
}

// readUint reads big-endian 5-bit values; ok is false beyond 64 bits.
func readUint(v []byte) (x uint64, ok bool) {
	for _, d := range v {
		if x>>59 != 0 {
			return 0, false
		}
		x = x<<5 | uint64(d)
	}
	return x, true
}

// readMinimalUint reads an integer field, refusing leading zeros and values beyond 64 bits.
func readMinimalUint(v []byte, name string) (uint64, error) {
	if len(v) > 0 && v[0] == 0 {
		return 0, fmt.Errorf("bolt11: %s not minimally encoded: starts with a zero", name)
	}
	x, ok := readUint(v)
	if !ok {
		return 0, fmt.Errorf("bolt11: %s is too large", name)
	}
	return x, nil
}

// fromBytes regroups bytes into 5-bit values, padding with zero bits.
func fromBytes(b []byte) []byte {
	v, _ := bech32.ConvertBits(b, 8, 5, true) // bytes always fit in 8 bits: cannot fail
	return v
}

// toBytes regroups 5-bit values into bytes, dropping the padding bits at the end (fewer than
// eight; the spec asks writers to make them zero but readers do not check, and the signature
// covers them anyway).
func toBytes(v []byte) []byte {
	out := make([]byte, 0, len(v)*5/8)
	var acc uint32
	var bits uint
	for _, d := range v {
		acc = acc<<5 | uint32(d)
		bits += 5
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	return out
}
