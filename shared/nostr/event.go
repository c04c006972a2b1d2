package nostr

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// Errors returned (wrapped) by Event.Verify, one per check, so callers can
// tell with errors.Is which check failed.
var (
	// ErrBadID: the id field is not the sha256 of the event's canonical
	// serialization.
	ErrBadID = errors.New("id does not match the event")
	// ErrBadPubKey: the pubkey is not 64 lowercase hex characters naming
	// a point on secp256k1.
	ErrBadPubKey = errors.New("bad pubkey")
	// ErrBadSignature: the sig field is malformed or is not a valid BIP-340
	// signature of the id by the pubkey.
	ErrBadSignature = errors.New("bad signature")
)

// Event is a Nostr event as NIP-01 puts it on the wire. ID, PubKey and Sig
// are lowercase hex; CreatedAt is Unix seconds.
type Event struct {
	ID        string     `json:"id"`
	PubKey    string     `json:"pubkey"`
	CreatedAt int64      `json:"created_at"`
	Kind      int        `json:"kind"`
	Tags      [][]string `json:"tags"`
	Content   string     `json:"content"`
	Sig       string     `json:"sig"`
}

// Signer signs events on behalf of one key. SecretKey is a Signer; a signer
// backed by an OS keyring or a remote bunker can be another.
type Signer interface {
	// PublicKey returns the key the signer signs with.
	PublicKey() PublicKey
	// SignEvent sets e.PubKey to the signer's public key, then e.ID to
	// e.ComputeID() and e.Sig to a BIP-340 signature of the id. Every other
	// field is left as it is and is covered by the signature.
	SignEvent(e *Event) error
}

// Serialize returns the NIP-01 canonical serialization that the event id
// hashes: the UTF-8 JSON array [0,pubkey,created_at,kind,tags,content] with no
// whitespace. ID and Sig are not part of it.
//
// Strings are written verbatim except for the escapes NIP-01 lists: \n \"
// \\ \r \t \b \f. Other control characters below 0x20, which JSON cannot
// hold raw, are written as \u00xx with lowercase hex, as JSON.stringify and
// the other Nostr libraries do. Nothing else is escaped: not < > &, not
// U+2028/U+2029, not non-ASCII. Nil Tags (or a nil tag) serialize as [].
func (e *Event) Serialize() []byte {
	n := 64 + len(e.PubKey) + len(e.Content)
	for _, t := range e.Tags {
		n += 3
		for _, v := range t {
			n += len(v) + 3
		}
	}
	b := make([]byte, 0, n)
	b = append(b, `[0,`...)
	b = appendString(b, e.PubKey)
	b = append(b, ',')
	b = strconv.AppendInt(b, e.CreatedAt, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(e.Kind), 10)
	b = append(b, ",["...)
	for i, t := range e.Tags {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range t {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	b = append(b, "],"...)
	b = appendString(b, e.Content)
	b = append(b, ']')
	return b
}

// appendString appends s to b as a JSON string escaped as NIP-01 requires.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// ComputeID returns the event id: the lowercase hex sha256 of Serialize().
func (e *Event) ComputeID() string {
	h := sha256.Sum256(e.Serialize())
	return hex.EncodeToString(h[:])
}

// Tag returns the value (second element) of the first tag named name. ok
// reports whether such a tag exists; a tag with the name but no value gives
// ("", true).
func (e *Event) Tag(name string) (value string, ok bool) {
	for _, t := range e.Tags {
		if len(t) > 0 && t[0] == name {
			if len(t) > 1 {
				return t[1], true
			}
			return "", true
		}
	}
	return "", false
}

// SignEvent implements Signer: it sets e.PubKey, e.ID and e.Sig, signing
// with fresh auxiliary randomness from crypto/rand as BIP-340 recommends.
//
// It fails if k is not a valid key, or if the content or a tag is not valid
// UTF-8 (JSON transport would replace the bad bytes, and the id would no
// longer match).
func (k SecretKey) SignEvent(e *Event) error {
	if !utf8.ValidString(e.Content) {
		return errors.New("nostr: cannot sign: content is not valid UTF-8")
	}
	for i, t := range e.Tags {
		for j, v := range t {
			if !utf8.ValidString(v) {
				return fmt.Errorf("nostr: cannot sign: tags[%d][%d] is not valid UTF-8", i, j)
			}
		}
	}
	pub := k.PublicKey()
	if pub == (PublicKey{}) {
		return fmt.Errorf("nostr: cannot sign: %w: zero or not below the secp256k1 group order", ErrInvalidSecretKey)
	}
	var aux [32]byte
	if _, err := rand.Read(aux[:]); err != nil {
		return fmt.Errorf("nostr: cannot sign: reading randomness: %w", err)
	}
	e.PubKey = pub.Hex()
	id := sha256.Sum256(e.Serialize())
	sig, err := signHash(k, id, aux)
	if err != nil {
		return err
	}
	e.ID = hex.EncodeToString(id[:])
	e.Sig = hex.EncodeToString(sig[:])
	return nil
}

// Verify checks, in this order, that e.ID is the id of the event (else
// ErrBadID), that e.PubKey is a valid lowercase hex public key (else
// ErrBadPubKey) and that e.Sig is a valid BIP-340 signature of the id by that
// key (else ErrBadSignature). It returns nil if all pass; errors wrap the
// sentinel of the failed check. It checks nothing else (not the kind, not
// the time).
func (e *Event) Verify() error {
	id := sha256.Sum256(e.Serialize())
	if !isLowerHex(e.ID) || e.ID != hex.EncodeToString(id[:]) {
		return fmt.Errorf("nostr: %w: the event hashes to %s but its id field is %s", ErrBadID, hex.EncodeToString(id[:]), quoteShort(e.ID))
	}
	pub, err := ParsePublicKey(e.PubKey)
	if err != nil || len(e.PubKey) != 64 {
		return fmt.Errorf("nostr: %w: %s is not 64 lowercase hex characters of a secp256k1 x coordinate", ErrBadPubKey, quoteShort(e.PubKey))
	}
	var sig [64]byte
	if len(e.Sig) != 128 || !isLowerHex(e.Sig) {
		return fmt.Errorf("nostr: %w: sig is not 128 lowercase hex characters", ErrBadSignature)
	}
	_, _ = hex.Decode(sig[:], []byte(e.Sig))
	if err := verifyHash(pub, id, sig); err != nil {
		return err
	}
	return nil
}

// signHash makes the BIP-340 signature of the 32-byte message msg with aux as
// the auxiliary random data.
func signHash(k SecretKey, msg, aux [32]byte) ([64]byte, error) {
	var out [64]byte
	priv, err := k.privateKey()
	if err != nil {
		return out, fmt.Errorf("nostr: cannot sign: %w", err)
	}
	defer priv.Zero()
	sig, err := schnorr.Sign(priv, msg[:], schnorr.CustomNonce(aux))
	if err != nil {
		return out, fmt.Errorf("nostr: BIP-340 signing failed: %w", err)
	}
	copy(out[:], sig.Serialize())
	return out, nil
}

// verifyHash checks the BIP-340 signature sig of the 32-byte message msg by
// pub. Errors wrap ErrBadPubKey or ErrBadSignature.
func verifyHash(pub PublicKey, msg [32]byte, sig [64]byte) error {
	pk, err := schnorr.ParsePubKey(pub[:])
	if err != nil {
		return fmt.Errorf("nostr: %w: %s is not the x coordinate of a secp256k1 point", ErrBadPubKey, pub.Hex())
	}
	// schnorr.ParseSignature reduces s modulo n without complaint; BIP-340
	// requires s < n, so check it here.
	var s btcec.ModNScalar
	if overflow := s.SetByteSlice(sig[32:]); overflow {
		return fmt.Errorf("nostr: %w: s is not below the group order", ErrBadSignature)
	}
	parsed, err := schnorr.ParseSignature(sig[:])
	if err != nil {
		return fmt.Errorf("nostr: %w: %v", ErrBadSignature, err)
	}
	if !parsed.Verify(msg[:], pk) {
		return fmt.Errorf("nostr: %w: not signed by %s", ErrBadSignature, pub.Hex())
	}
	return nil
}

// quoteShort quotes s for an error message, truncated to a readable length.
func quoteShort(s string) string {
	const limit = 80
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
