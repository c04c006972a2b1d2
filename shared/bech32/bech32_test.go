package bech32

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// BIP-173 "Test vectors": strings that are valid Bech32.
var validBIP173 = []string{
	"A12UEL5L",
	"a12uel5l",
	"an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
	"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
	"11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
	"split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
	"?1ezyfcl",
}

// BIP-173 "Test vectors": strings that are not valid Bech32, with the error
// this package reports.
var invalidBIP173 = []struct {
	s      string
	reason string
	want   error
}{
	{"\x20" + "1nwldj5", "HRP character out of range", ErrHRP},
	{"\x7f" + "1axkwrx", "HRP character out of range", ErrHRP},
	{"\x80" + "1eym55h", "HRP character out of range", ErrHRP},
	{"an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", "overall max length exceeded", ErrLength},
	{"pzry9x0s0muk", "no separator character", ErrSeparator},
	{"1pzry9x0s0muk", "empty HRP", ErrHRP},
	{"x1b4n0q5v", "invalid data character", ErrCharacter},
	{"li1dgmt3", "too short checksum", ErrLength},
	{"de1lg7wt" + "\xff", "invalid character in checksum", ErrCharacter},
	{"A1G7SGD8", "checksum calculated with uppercase form of HRP", ErrChecksum},
	{"10a06t8", "empty HRP", ErrHRP},
	{"1qzzfhee", "empty HRP", ErrHRP},
}

func TestDecodeValidBIP173(t *testing.T) {
	for _, s := range validBIP173 {
		hrp, data5, err := Decode(s, MaxLength)
		if err != nil {
			t.Errorf("Decode(%q): %v", s, err)
			continue
		}
		// Re-encoding gives the lower-case form back.
		got, err := Encode(hrp, data5)
		if err != nil {
			t.Errorf("Encode(%q, ...): %v", hrp, err)
			continue
		}
		if got != strings.ToLower(s) {
			t.Errorf("Encode(Decode(%q)) = %q", s, got)
		}
		// A single changed character must break the checksum.
		sep := strings.LastIndexByte(got, '1')
		for i := sep + 1; i < len(got); i++ {
			b := []byte(got)
			b[i] = Charset[(strings.IndexByte(Charset, b[i])+1)%32]
			if _, _, err := Decode(string(b), MaxLength); !errors.Is(err, ErrChecksum) {
				t.Errorf("Decode(%q) with position %d changed: err = %v, want ErrChecksum", s, i, err)
			}
		}
	}
}

func TestDecodeInvalidBIP173(t *testing.T) {
	for _, tc := range invalidBIP173 {
		_, _, err := Decode(tc.s, MaxLength)
		if err == nil {
			t.Errorf("Decode(%q) succeeded; want failure (%s)", tc.s, tc.reason)
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("Decode(%q) = %v; want %v (%s)", tc.s, err, tc.want, tc.reason)
		}
	}
}

func TestDecodeMixedCase(t *testing.T) {
	if _, _, err := Decode("A12uEL5L", MaxLength); !errors.Is(err, ErrMixedCase) {
		t.Errorf("mixed case: err = %v, want ErrMixedCase", err)
	}
}

func TestDecodeLimit(t *testing.T) {
	// A 1000-value payload: far over 90 characters, like a BOLT 11 invoice.
	data5 := make([]byte, 1000)
	for i := range data5 {
		data5[i] = byte(i * 7 % 32)
	}
	s, err := Encode("lnbc", data5)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 4+1+1000+6 {
		t.Fatalf("len = %d", len(s))
	}
	if _, _, err := Decode(s, MaxLength); !errors.Is(err, ErrLength) {
		t.Errorf("Decode with MaxLength: err = %v, want ErrLength", err)
	}
	if _, _, err := Decode(s, len(s)-1); !errors.Is(err, ErrLength) {
		t.Errorf("Decode with limit len-1: err = %v, want ErrLength", err)
	}
	for _, limit := range []int{NoLimit, -1, len(s)} {
		hrp, got, err := Decode(s, limit)
		if err != nil {
			t.Fatalf("Decode with limit %d: %v", limit, err)
		}
		if hrp != "lnbc" || !bytes.Equal(got, data5) {
			t.Errorf("Decode with limit %d: round trip mismatch", limit)
		}
	}
}

func TestBech32mIsRejected(t *testing.T) {
	// BIP-350 valid Bech32m strings are not valid Bech32.
	for _, s := range []string{"a1lqfn3a", "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx", "?1v759aa"} {
		if _, _, err := Decode(s, MaxLength); !errors.Is(err, ErrChecksum) {
			t.Errorf("Decode(%q) = %v, want ErrChecksum", s, err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		hrp   string
		data5 []byte
		want  error
	}{
		{"", nil, ErrHRP},
		{strings.Repeat("a", 84), nil, ErrHRP},
		{"a b", nil, ErrHRP},
		{"a\x7f", nil, ErrHRP},
		{"aB", nil, ErrMixedCase},
		{"a", []byte{0, 31, 32}, ErrDataValue},
	}
	for _, tc := range cases {
		if _, err := Encode(tc.hrp, tc.data5); !errors.Is(err, tc.want) {
			t.Errorf("Encode(%q, %v) err = %v, want %v", tc.hrp, tc.data5, err, tc.want)
		}
	}
	// An upper-case HRP is accepted and written in lower case.
	s, err := Encode("A", nil)
	if err != nil || s != "a12uel5l" {
		t.Errorf(`Encode("A", nil) = %q, %v; want "a12uel5l"`, s, err)
	}
}

func TestConvertBits(t *testing.T) {
	cases := []struct {
		in       []byte
		from, to uint
		pad      bool
		want     []byte
	}{
		{[]byte{0xff}, 8, 5, true, []byte{31, 28}},
		{[]byte{0x00, 0x01}, 8, 5, true, []byte{0, 0, 0, 16}},
		{[]byte{31, 28}, 5, 8, false, []byte{0xff}},
		{[]byte{0, 0, 0, 16}, 5, 8, false, []byte{0x00, 0x01}},
		{[]byte{1, 0, 1}, 1, 3, true, []byte{5}},
		{nil, 8, 5, true, []byte{}},
		{nil, 5, 8, false, []byte{}},
	}
	for _, tc := range cases {
		got, err := ConvertBits(tc.in, tc.from, tc.to, tc.pad)
		if err != nil {
			t.Errorf("ConvertBits(%v, %d, %d, %v): %v", tc.in, tc.from, tc.to, tc.pad, err)
			continue
		}
		if !bytes.Equal(got, tc.want) {
			t.Errorf("ConvertBits(%v, %d, %d, %v) = %v, want %v", tc.in, tc.from, tc.to, tc.pad, got, tc.want)
		}
	}

	errCases := []struct {
		in       []byte
		from, to uint
		pad      bool
		want     error
	}{
		{[]byte{32}, 5, 8, false, ErrDataValue},   // not a 5-bit value
		{[]byte{31, 29}, 5, 8, false, ErrPadding}, // non-zero leftover bits
		{[]byte{0}, 5, 8, false, ErrPadding},      // 5 leftover bits: a whole group too many
	}
	for _, tc := range errCases {
		if _, err := ConvertBits(tc.in, tc.from, tc.to, tc.pad); !errors.Is(err, tc.want) {
			t.Errorf("ConvertBits(%v, %d, %d, %v) err = %v, want %v", tc.in, tc.from, tc.to, tc.pad, err, tc.want)
		}
	}
	for _, w := range [][2]uint{{0, 5}, {5, 0}, {9, 5}, {5, 9}} {
		if _, err := ConvertBits([]byte{1}, w[0], w[1], true); err == nil {
			t.Errorf("ConvertBits widths %v: no error", w)
		}
	}
}

func TestConvertBitsRoundTrip(t *testing.T) {
	for n := 0; n <= 70; n++ {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(i*37 + n)
		}
		five, err := ConvertBits(in, 8, 5, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := (n*8 + 4) / 5; len(five) != want {
			t.Errorf("n=%d: %d 5-bit values, want %d", n, len(five), want)
		}
		back, err := ConvertBits(five, 5, 8, false)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if !bytes.Equal(back, in) {
			t.Errorf("n=%d: round trip mismatch", n)
		}
	}
}

func TestEncodeDecodeBytes(t *testing.T) {
	// NIP-19's npub example.
	key := []byte{
		0x7e, 0x7e, 0x9c, 0x42, 0xa9, 0x1b, 0xfe, 0xf1, 0x9f, 0xa9, 0x29, 0xe5, 0xfd, 0xa1, 0xb7, 0x2e,
		0x0e, 0xbc, 0x1a, 0x4c, 0x11, 0x41, 0x67, 0x3e, 0x27, 0x94, 0x23, 0x4d, 0x86, 0xad, 0xdf, 0x4e,
	}
	const npub = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
	s, err := EncodeBytes("npub", key)
	if err != nil || s != npub {
		t.Fatalf("EncodeBytes = %q, %v; want %q", s, err, npub)
	}
	hrp, got, err := DecodeBytes(strings.ToUpper(npub), MaxLength)
	if err != nil || hrp != "npub" || !bytes.Equal(got, key) {
		t.Fatalf("DecodeBytes = %q, %x, %v", hrp, got, err)
	}
	// Valid Bech32 whose data does not regroup into bytes.
	bad, err := Encode("x", []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DecodeBytes(bad, MaxLength); !errors.Is(err, ErrPadding) {
		t.Errorf("DecodeBytes(%q) err = %v, want ErrPadding", bad, err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range validBIP173 {
		f.Add(s)
	}
	for _, tc := range invalidBIP173 {
		f.Add(tc.s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hrp, data5, err := Decode(s, NoLimit)
		if err != nil {
			return
		}
		again, err := Encode(hrp, data5)
		if err != nil {
			t.Fatalf("Encode of decoded %q: %v", s, err)
		}
		if again != asciiLower(s) {
			t.Fatalf("Encode(Decode(%q)) = %q", s, again)
		}
	})
}
