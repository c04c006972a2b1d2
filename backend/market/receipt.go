package market

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
)

// A receipt code proves a guest purchase: 128 random bits in Crockford's base32 (26 symbols),
// then two check symbols, written in groups of four: "7ZQK-M2XA-...". It is typed by people, so
// parsing ignores case, spaces and dashes and reads O as 0 and I, L as 1; the check symbols
// catch typos before any lookup.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var receiptEncoding = base32.NewEncoding(crockford).WithPadding(base32.NoPadding)

const receiptSymbols = 26 // 16 bytes

// NewReceiptCode formats 16 random bytes as a receipt code.
func NewReceiptCode(random [16]byte) string {
	body := receiptEncoding.EncodeToString(random[:])
	code := body + receiptCheck(body)
	var groups []string
	for i := 0; i < len(code); i += 4 {
		groups = append(groups, code[i:min(i+4, len(code))])
	}
	return strings.Join(groups, "-")
}

// receiptCheck is two symbols of the sha256 of body.
func receiptCheck(body string) string {
	sum := sha256.Sum256([]byte(body))
	return string([]byte{crockford[sum[0]>>3], crockford[sum[1]>>3]})
}

// ReceiptHash parses a receipt code as a person may have typed it and returns the hash the
// database keeps for it. A malformed code or one whose check symbols do not match is Invalid.
func ReceiptHash(code string) (string, error) {
	s := strings.Map(func(r rune) rune {
		switch r {
		case '-', ' ', '\t':
			return -1
		case 'O', 'o':
			return '0'
		case 'I', 'i', 'L', 'l':
			return '1'
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, code)
	bad := Errorf(CodeInvalid, "that is not a receipt code: check it for typos (it looks like XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX)")
	if len(s) != receiptSymbols+2 {
		return "", bad
	}
	body, check := s[:receiptSymbols], s[receiptSymbols:]
	if _, err := receiptEncoding.DecodeString(body); err != nil || receiptCheck(body) != check {
		return "", bad
	}
	sum := sha256.Sum256([]byte("satchel receipt " + body))
	return hex.EncodeToString(sum[:]), nil
}
