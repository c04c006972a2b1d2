// Package bech32 implements the Bech32 encoding of BIP-173 (not Bech32m).
//
// A Bech32 string is a human-readable part (HRP), the separator '1', and a
// data part of 5-bit values written with a 32-character alphabet, the last six
// of which are a BCH checksum over the HRP and the data.
//
// The package works on 5-bit values ("data5": every byte is in 0..31).
// ConvertBits regroups 8-bit bytes into 5-bit values and back; EncodeBytes
// and DecodeBytes combine the two steps for the common case of encoding a
// byte string (NIP-19 keys, for example).
//
// BIP-173 limits a string to 90 characters. Encode never enforces that limit
// and Decode enforces it only when asked (pass MaxLength), because BOLT 11
// invoices use Bech32 strings far longer than 90 characters.
package bech32

import (
	"errors"
	"fmt"
	"strings"
)

// Charset is the Bech32 alphabet: the character at index v encodes the 5-bit
// value v.
const Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// MaxLength is the longest string BIP-173 allows. Pass it to Decode to
// enforce that limit.
const MaxLength = 90

// NoLimit passed to Decode accepts a string of any length (as BOLT 11 needs).
const NoLimit = 0

// MaxHRPLength is the longest human-readable part BIP-173 allows.
const MaxHRPLength = 83

// checksumLength is the number of checksum characters at the end of the data
// part.
const checksumLength = 6

// Errors returned (wrapped, with details) by this package. Test for them with
// errors.Is.
var (
	// ErrLength: the string is longer than the limit given to Decode, or
	// too short to hold a separator and a checksum.
	ErrLength = errors.New("bech32: invalid length")
	// ErrMixedCase: the string mixes upper and lower case letters.
	ErrMixedCase = errors.New("bech32: mixed case")
	// ErrSeparator: the string has no '1' separator.
	ErrSeparator = errors.New("bech32: missing separator '1'")
	// ErrHRP: the human-readable part is empty, too long, or has a
	// character outside US-ASCII 33..126.
	ErrHRP = errors.New("bech32: invalid human-readable part")
	// ErrCharacter: the data part has a character outside Charset.
	ErrCharacter = errors.New("bech32: invalid data character")
	// ErrChecksum: the checksum does not match (a typo, or a Bech32m
	// string).
	ErrChecksum = errors.New("bech32: invalid checksum")
	// ErrDataValue: a value given to Encode or ConvertBits does not fit
	// in its bit width.
	ErrDataValue = errors.New("bech32: data value out of range")
	// ErrPadding: ConvertBits without padding found leftover bits that are
	// too many or not zero.
	ErrPadding = errors.New("bech32: invalid padding")
)

// generator holds the BCH generator constants of BIP-173.
var generator = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}

// asciiLower maps A-Z to a-z and leaves every other byte alone (unlike
// strings.ToLower, which rewrites invalid UTF-8).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func polymod(values []byte, chk uint32) uint32 {
	for _, v := range values {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (b>>i)&1 == 1 {
				chk ^= generator[i]
			}
		}
	}
	return chk
}

// hrpPolymod feeds the expanded HRP (high bits, a zero, low bits) into the
// checksum. hrp must already be lower case.
func hrpPolymod(hrp string) uint32 {
	chk := uint32(1)
	buf := make([]byte, 0, 2*len(hrp)+1)
	for i := 0; i < len(hrp); i++ {
		buf = append(buf, hrp[i]>>5)
	}
	buf = append(buf, 0)
	for i := 0; i < len(hrp); i++ {
		buf = append(buf, hrp[i]&31)
	}
	return polymod(buf, chk)
}

func checkHRP(hrp string) error {
	if len(hrp) == 0 {
		return fmt.Errorf("%w: empty", ErrHRP)
	}
	if len(hrp) > MaxHRPLength {
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrHRP, len(hrp), MaxHRPLength)
	}
	for i := 0; i < len(hrp); i++ {
		if c := hrp[i]; c < 33 || c > 126 {
			return fmt.Errorf("%w: character 0x%02x at position %d is outside US-ASCII 33..126", ErrHRP, c, i)
		}
	}
	return nil
}

// Encode returns the Bech32 string for hrp and the 5-bit values data5, in
// lower case, with the checksum appended.
//
// hrp must be 1 to 83 US-ASCII characters in 33..126; it is lower-cased, and
// it must not mix cases. Every value of data5 must be below 32. Encode does
// not enforce the 90-character limit of BIP-173: callers that need it check
// the length of the result.
func Encode(hrp string, data5 []byte) (string, error) {
	if err := checkHRP(hrp); err != nil {
		return "", err
	}
	lower := strings.ToLower(hrp)
	if lower != hrp && strings.ToUpper(hrp) != hrp {
		return "", fmt.Errorf("%w in human-readable part %q", ErrMixedCase, hrp)
	}
	for i, v := range data5 {
		if v >= 32 {
			return "", fmt.Errorf("%w: data5[%d] = %d is not a 5-bit value", ErrDataValue, i, v)
		}
	}
	chk := polymod(data5, hrpPolymod(lower))
	chk = polymod(make([]byte, checksumLength), chk) ^ 1

	var b strings.Builder
	b.Grow(len(lower) + 1 + len(data5) + checksumLength)
	b.WriteString(lower)
	b.WriteByte('1')
	for _, v := range data5 {
		b.WriteByte(Charset[v])
	}
	for i := 0; i < checksumLength; i++ {
		b.WriteByte(Charset[(chk>>(5*(5-i)))&31])
	}
	return b.String(), nil
}

// Decode parses and checks the Bech32 string s and returns its
// human-readable part (in lower case) and its 5-bit data values without the
// checksum.
//
// If limit is positive, a string longer than limit characters is refused;
// pass MaxLength for BIP-173's limit, or NoLimit (or any value <= 0) for none.
// s may be all lower or all upper case, not mixed. The separator is the last
// '1' in s. Errors wrap the package's sentinel errors.
func Decode(s string, limit int) (hrp string, data5 []byte, err error) {
	if limit > 0 && len(s) > limit {
		return "", nil, fmt.Errorf("%w: %d characters, at most %d allowed", ErrLength, len(s), limit)
	}
	hasLower, hasUpper := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			hasLower = true
		case c >= 'A' && c <= 'Z':
			hasUpper = true
		}
	}
	if hasLower && hasUpper {
		return "", nil, ErrMixedCase
	}
	s = asciiLower(s)

	sep := strings.LastIndexByte(s, '1')
	if sep < 0 {
		return "", nil, ErrSeparator
	}
	hrp = s[:sep]
	if err := checkHRP(hrp); err != nil {
		return "", nil, err
	}
	dataPart := s[sep+1:]
	if len(dataPart) < checksumLength {
		return "", nil, fmt.Errorf("%w: data part has %d characters, at least %d (the checksum) needed", ErrLength, len(dataPart), checksumLength)
	}
	values := make([]byte, len(dataPart))
	for i := 0; i < len(dataPart); i++ {
		v := strings.IndexByte(Charset, dataPart[i])
		if v < 0 {
			return "", nil, fmt.Errorf("%w: %q at position %d", ErrCharacter, dataPart[i], sep+1+i)
		}
		values[i] = byte(v)
	}
	if polymod(values, hrpPolymod(hrp)) != 1 {
		return "", nil, ErrChecksum
	}
	return hrp, values[:len(values)-checksumLength], nil
}

// ConvertBits regroups data, a sequence of from-bit values, into to-bit
// values, most significant bit first. from and to must be in 1..8.
//
// Every input value must fit in from bits. With pad, a final incomplete
// group is padded with zero bits (use this when encoding bytes to 5-bit
// values). Without pad, leftover bits must be fewer than from and all zero,
// and are dropped (use this when decoding 5-bit values back to bytes).
func ConvertBits(data []byte, from, to uint, pad bool) ([]byte, error) {
	if from < 1 || from > 8 || to < 1 || to > 8 {
		return nil, fmt.Errorf("bech32: ConvertBits from %d to %d bits: widths must be 1..8", from, to)
	}
	var acc uint32
	var bits uint
	maxv := uint32(1)<<to - 1
	out := make([]byte, 0, (len(data)*int(from)+int(to)-1)/int(to))
	for i, v := range data {
		if uint32(v)>>from != 0 {
			return nil, fmt.Errorf("%w: data[%d] = %d does not fit in %d bits", ErrDataValue, i, v, from)
		}
		acc = (acc<<from | uint32(v)) & 0xffff // keep only bits that can still be emitted
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from {
		return nil, fmt.Errorf("%w: %d leftover bits, fewer than %d expected", ErrPadding, bits, from)
	} else if acc<<(to-bits)&maxv != 0 {
		return nil, fmt.Errorf("%w: leftover bits are not zero", ErrPadding)
	}
	return out, nil
}

// EncodeBytes is Encode of data regrouped from bytes into 5-bit values, with
// padding.
func EncodeBytes(hrp string, data []byte) (string, error) {
	data5, err := ConvertBits(data, 8, 5, true)
	if err != nil {
		return "", err
	}
	return Encode(hrp, data5)
}

// DecodeBytes is Decode followed by regrouping the 5-bit values into bytes,
// without padding (leftover bits must be fewer than 5 and zero).
func DecodeBytes(s string, limit int) (hrp string, data []byte, err error) {
	hrp, data5, err := Decode(s, limit)
	if err != nil {
		return "", nil, err
	}
	data, err = ConvertBits(data5, 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, data, nil
}
