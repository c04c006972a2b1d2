package nostr

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/btcutil/bech32"
)

// Bech32 human-readable parts of NIP-19.
const (
	HRPPublicKey = "npub"
	HRPSecretKey = "nsec"
)

// ErrInvalidSecretKey is returned (wrapped) for a secret key that is zero or
// not below the secp256k1 group order, or that cannot be parsed.
var ErrInvalidSecretKey = errors.New("invalid secret key")

// redacted is what fmt, slog and the String methods show instead of a secret
// key.
const redacted = "nostr.SecretKey(REDACTED)"

// SecretKey is a BIP-340 secret key: a 32-byte big-endian scalar in
// [1, n-1], where n is the secp256k1 group order. The zero value is not a
// valid key.
//
// A SecretKey does not reveal itself by accident: fmt (every verb, including
// %v, %x and %#v), log/slog and the String and GoString methods print a
// redacted placeholder, and encoding/json and other encoding.TextMarshaler
// users fail with an error. Use Hex or Nsec to get the key on purpose.
//
// fmt cannot call methods on unexported struct fields, so a struct that
// keeps a SecretKey in an unexported field and is printed with %v shows the
// raw bytes; keep such a field behind a pointer (fmt then prints the
// address) or give the struct its own String method.
type SecretKey [32]byte

// PublicKey is a BIP-340 x-only public key: the 32-byte x coordinate of a
// secp256k1 point with an even y coordinate.
type PublicKey [32]byte

// Compile-time check that a SecretKey signs events.
var _ Signer = SecretKey{}

// GenerateKey returns a new uniformly random valid secret key read from
// crypto/rand.
func GenerateKey() (SecretKey, error) {
	return generateKey(rand.Reader)
}

func generateKey(r io.Reader) (SecretKey, error) {
	for {
		var k SecretKey
		if _, err := io.ReadFull(r, k[:]); err != nil {
			return SecretKey{}, fmt.Errorf("nostr: generating a secret key: %w", err)
		}
		// Out-of-range values occur with probability about 2^-128; try again.
		if k.valid() {
			return k, nil
		}
	}
}

// ParseSecretKey parses a secret key given as a NIP-19 "nsec1..." string or
// as 64 hexadecimal characters (either case). It rejects values that are
// not valid secp256k1 scalars. Errors never contain the input.
func ParseSecretKey(s string) (SecretKey, error) {
	var k SecretKey
	switch {
	case hasPrefixFold(s, HRPSecretKey+"1"):
		b, err := decodeNIP19(s, HRPSecretKey)
		if err != nil {
			// Say what is wrong without quoting any part of the secret.
			return SecretKey{}, fmt.Errorf("nostr: %w: not a valid nsec: %s", ErrInvalidSecretKey, redactNIP19Error(err))
		}
		copy(k[:], b)
	case len(s) == 64:
		if _, err := hex.Decode(k[:], []byte(s)); err != nil {
			return SecretKey{}, fmt.Errorf("nostr: %w: 64 characters but not hexadecimal", ErrInvalidSecretKey)
		}
	default:
		return SecretKey{}, fmt.Errorf("nostr: %w: want nsec1... or 64 hex characters, got %d characters%s",
			ErrInvalidSecretKey, len(s), whitespaceHint(s))
	}
	if !k.valid() {
		return SecretKey{}, fmt.Errorf("nostr: %w: zero or not below the secp256k1 group order", ErrInvalidSecretKey)
	}
	return k, nil
}

// valid reports whether k is in [1, n-1].
func (k SecretKey) valid() bool {
	var d btcec.ModNScalar
	overflow := d.SetBytes((*[32]byte)(&k))
	ok := overflow == 0 && !d.IsZero()
	d.Zero()
	return ok
}

// privateKey returns k as a btcec private key, or an error if k is not a
// valid scalar. The caller should Zero the result when done.
func (k SecretKey) privateKey() (*btcec.PrivateKey, error) {
	var d btcec.ModNScalar
	if overflow := d.SetBytes((*[32]byte)(&k)); overflow != 0 || d.IsZero() {
		d.Zero()
		return nil, fmt.Errorf("nostr: %w: zero or not below the secp256k1 group order", ErrInvalidSecretKey)
	}
	return btcec.PrivKeyFromScalar(&d), nil
}

// PublicKey returns the x-only public key of k. For an invalid k (such as
// the zero value) it returns the zero PublicKey, which is not a valid key.
func (k SecretKey) PublicKey() PublicKey {
	priv, err := k.privateKey()
	if err != nil {
		return PublicKey{}
	}
	defer priv.Zero()
	var p PublicKey
	copy(p[:], schnorr.SerializePubKey(priv.PubKey()))
	return p
}

// Hex returns k as 64 lowercase hexadecimal characters. Handle the result
// as the secret it is.
func (k SecretKey) Hex() string { return hex.EncodeToString(k[:]) }

// Nsec returns k in NIP-19 form, "nsec1...". Handle the result as the secret
// it is.
func (k SecretKey) Nsec() string { return encodeNIP19(HRPSecretKey, k[:]) }

// String returns a redacted placeholder, never the key.
func (k SecretKey) String() string { return redacted }

// GoString returns a redacted placeholder, never the key (used by %#v).
func (k SecretKey) GoString() string { return redacted }

// Format implements fmt.Formatter: every verb prints a redacted placeholder.
func (k SecretKey) Format(f fmt.State, verb rune) { _, _ = io.WriteString(f, redacted) }

// LogValue implements slog.LogValuer: log/slog records a redacted
// placeholder.
func (k SecretKey) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText always fails, so that encoding/json, encoding/xml and similar
// refuse to write a secret key by accident (a silently redacted value in a
// saved file would lose the key). Store Hex or Nsec explicitly instead.
func (k SecretKey) MarshalText() ([]byte, error) {
	return nil, errors.New("nostr: refusing to marshal a SecretKey; store SecretKey.Hex() or Nsec() explicitly")
}

// ParsePublicKey parses a public key given as a NIP-19 "npub1..." string or
// as 64 lowercase hexadecimal characters (the canonical form NIP-01 uses).
// It rejects an x coordinate that is not on the secp256k1 curve.
func ParsePublicKey(s string) (PublicKey, error) {
	var p PublicKey
	switch {
	case hasPrefixFold(s, HRPPublicKey+"1"):
		b, err := decodeNIP19(s, HRPPublicKey)
		if err != nil {
			return PublicKey{}, fmt.Errorf("nostr: %w: not a valid npub: %v", ErrBadPubKey, err)
		}
		copy(p[:], b)
	case len(s) == 64:
		if !isLowerHex(s) {
			return PublicKey{}, fmt.Errorf("nostr: %w: %q is not 64 lowercase hexadecimal characters", ErrBadPubKey, s)
		}
		_, _ = hex.Decode(p[:], []byte(s))
	default:
		return PublicKey{}, fmt.Errorf("nostr: %w: want npub1... or 64 lowercase hex characters, got %d characters%s",
			ErrBadPubKey, len(s), whitespaceHint(s))
	}
	if _, err := schnorr.ParsePubKey(p[:]); err != nil {
		return PublicKey{}, fmt.Errorf("nostr: %w: %s is not the x coordinate of a secp256k1 point", ErrBadPubKey, p.Hex())
	}
	return p, nil
}

// Hex returns p as 64 lowercase hexadecimal characters, the form used in
// events and storage.
func (p PublicKey) Hex() string { return hex.EncodeToString(p[:]) }

// String returns p.Hex().
func (p PublicKey) String() string { return p.Hex() }

// Npub returns p in NIP-19 form, "npub1...", for display and input only.
func (p PublicKey) Npub() string { return encodeNIP19(HRPPublicKey, p[:]) }

// MarshalText returns p.Hex(), so p encodes as a hex string in JSON.
func (p PublicKey) MarshalText() ([]byte, error) { return []byte(p.Hex()), nil }

// UnmarshalText parses text with ParsePublicKey.
func (p *PublicKey) UnmarshalText(text []byte) error {
	q, err := ParsePublicKey(string(text))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Why a NIP-19 string does not decode. Their messages quote nothing of the input, so a
// secret key's error can name them (see redactNIP19Error).
var (
	errNIP19Format   = errors.New("bech32: malformed (length, case, separator or characters)")
	errNIP19Char     = errors.New("bech32: invalid data character")
	errNIP19Checksum = errors.New("bech32: invalid checksum")
	errNIP19Padding  = errors.New("bech32: invalid padding")
	errNIP19Prefix   = errors.New("wrong bech32 prefix")
	errNIP19Length   = errors.New("wrong data length")
)

func encodeNIP19(hrp string, key []byte) string {
	s, err := bech32.EncodeFromBase256(hrp, key)
	if err != nil {
		panic("nostr: bech32 encoding of a 32-byte key failed: " + err.Error()) // unreachable: hrp is constant and valid
	}
	return s
}

// decodeNIP19 decodes a Bech32 string (BIP-173, at most 90 characters; a Bech32m checksum is
// refused) that must have the given HRP and hold exactly 32 bytes. Its errors wrap one of the
// errNIP19 values.
func decodeNIP19(s, wantHRP string) ([]byte, error) {
	hrp, data5, version, err := bech32.DecodeGeneric(s)
	switch {
	case errors.As(err, new(bech32.ErrNonCharsetChar)):
		return nil, fmt.Errorf("%w: %v", errNIP19Char, err)
	case errors.As(err, new(bech32.ErrInvalidChecksum)):
		return nil, fmt.Errorf("%w: %v", errNIP19Checksum, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", errNIP19Format, err)
	case version != bech32.Version0:
		return nil, fmt.Errorf("%w: a Bech32m checksum, NIP-19 uses Bech32", errNIP19Checksum)
	}
	if hrp != wantHRP {
		return nil, fmt.Errorf("%w: prefix is %q, want %q", errNIP19Prefix, hrp, wantHRP)
	}
	b, err := bech32.ConvertBits(data5, 5, 8, false)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNIP19Padding, err)
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%w: holds %d bytes, want 32", errNIP19Length, len(b))
	}
	return b, nil
}

// redactNIP19Error describes err from decodeNIP19 without the details
// (characters, prefixes, checksums) that could quote the input.
func redactNIP19Error(err error) string {
	for _, e := range []error{errNIP19Format, errNIP19Char, errNIP19Checksum, errNIP19Padding,
		errNIP19Prefix, errNIP19Length} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "malformed"
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func whitespaceHint(s string) string {
	if t := strings.TrimSpace(s); t != s && (len(t) == 64 || hasPrefixFold(t, "n")) {
		return " (remove the surrounding whitespace)"
	}
	return ""
}
