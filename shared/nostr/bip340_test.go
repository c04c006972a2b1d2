package nostr

import (
	"encoding/csv"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
)

// TestBIP340Vectors runs every row of the official BIP-340 test vectors
// (bitcoin/bips bip-0340/test-vectors.csv, commit 200f9b26 "bip340: Allow
// variable-length messages", copied to testdata/).
//
// Rows with a secret key must produce exactly the listed signature with the
// listed aux_rand, and their public key must match; every row must verify or
// fail as listed. Rows 15-18 sign messages that are not 32 bytes long, which
// btcec's schnorr package (and Nostr, which only signs 32-byte ids) does not
// support; they are reported as skipped.
func TestBIP340Vectors(t *testing.T) {
	f, err := os.Open("testdata/bip340-test-vectors.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "index,secret key,public key,aux_rand,message,signature,verification result,comment" {
		t.Fatalf("unexpected header %q", got)
	}
	rows = rows[1:]
	if len(rows) != 19 {
		t.Fatalf("%d vectors, want 19", len(rows))
	}
	var signed, verified, skipped int
	for _, row := range rows {
		index, skHex, pkHex, auxHex, msgHex, sigHex, result, comment := row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
		msg := mustHex(t, msgHex)
		if len(msg) != 32 {
			// Nostr signs only 32-byte ids, and btcec's schnorr refuses other lengths; these
			// rows are counted below so that a changed vector file is noticed.
			skipped++
			continue
		}
		t.Run("vector"+index, func(t *testing.T) {
			var pub PublicKey
			copy(pub[:], mustHex(t, pkHex))
			var sig [64]byte
			copy(sig[:], mustHex(t, sigHex))
			want := result == "TRUE"

			if skHex != "" {
				sk, err := ParseSecretKey(skHex) // upper-case hex in the file
				if err != nil {
					t.Fatalf("ParseSecretKey: %v", err)
				}
				if got := sk.PublicKey(); got != pub {
					t.Errorf("public key = %s, want %s", got.Hex(), strings.ToLower(pkHex))
				}
				var aux [32]byte
				copy(aux[:], mustHex(t, auxHex))
				got, err := signHash(sk, [32]byte(msg), aux)
				if err != nil {
					t.Fatalf("signHash: %v", err)
				}
				if got != sig {
					t.Errorf("signature = %X, want %s", got, sigHex)
				}
				signed++
			}

			err := verifyHash(pub, [32]byte(msg), sig)
			if (err == nil) != want {
				t.Errorf("verify = %v, want result %s (%s)", err, result, comment)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrBadPubKey) {
				t.Errorf("verify error %v wraps neither ErrBadSignature nor ErrBadPubKey", err)
			}
			// The public key parser agrees on which keys are valid points.
			_, perr := ParsePublicKey(strings.ToLower(pkHex))
			if strings.Contains(comment, "public key") {
				if perr == nil {
					t.Errorf("ParsePublicKey accepted an invalid key (%s)", comment)
				}
			} else if perr != nil {
				t.Errorf("ParsePublicKey: %v", perr)
			}
			verified++
		})
	}
	t.Logf("BIP-340 vectors: %d signed, %d verified, %d skipped", signed, verified, skipped)
	if signed != 4 || verified != 15 || skipped != 4 {
		t.Errorf("ran %d signing and %d verification vectors, skipped %d; want 4, 15, 4", signed, verified, skipped)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// A reader that yields out-of-range scalars before a valid one.
type sequenceReader struct{ chunks [][]byte }

func (r *sequenceReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, errors.New("exhausted")
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	if len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func TestGenerateKeyRejectsInvalidScalars(t *testing.T) {
	order, _ := hex.DecodeString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	one := make([]byte, 32)
	one[31] = 1
	r := &sequenceReader{chunks: [][]byte{make([]byte, 32), order, one}}
	k, err := generateKey(r)
	if err != nil {
		t.Fatal(err)
	}
	if k != SecretKey(one) {
		t.Errorf("generateKey skipped to %s, want the key 1", k.Hex())
	}
	// G's x coordinate is the public key of 1.
	if got := k.PublicKey().Hex(); got != "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" {
		t.Errorf("PublicKey(1) = %s", got)
	}
	if _, err := generateKey(&sequenceReader{}); err == nil {
		t.Error("generateKey with a failing reader: no error")
	}
}
