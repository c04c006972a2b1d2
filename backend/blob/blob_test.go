package blob_test

import (
	"errors"
	"mime"
	"strings"
	"testing"

	"satchel.dev/backend/blob"
	"satchel.dev/backend/blob/blobtest"
)

func TestCheckKey(t *testing.T) {
	valid := []string{
		"builds/0b6f3c1e-8a4d-4f0e-9a57-2f1c8e7d6b5a/7c9e6679-7425-40de-944b-e07fc1f90ae7.zip",
		"a", "a.zip", "a/b/c", "x_y-z.0", "a..b", "a/b./c",
		"builds/" + strings.Repeat("x", 255), strings.Repeat("x/", 511) + "xy",
	}
	for _, key := range valid {
		if err := blob.CheckKey(key); err != nil {
			t.Errorf("CheckKey(%.40q): %v, want nil", key, err)
		}
	}
	for _, key := range blobtest.InvalidKeys {
		if err := blob.CheckKey(key); !errors.Is(err, blob.ErrInvalidKey) {
			t.Errorf("CheckKey(%.40q): %v, want blob.ErrInvalidKey", key, err)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	for _, filename := range []string{
		"game.zip", `My "Game" v1.zip`, "a;b=c.zip", `back\slash.zip`, "ünïcödé.zip",
		"a\r\nSet-Cookie: x=y.zip", "bad\xff.zip",
	} {
		v := blob.ContentDisposition(filename)
		if strings.ContainsAny(v, "\r\n") {
			t.Errorf("ContentDisposition(%q) = %q holds a line break", filename, v)
		}
		disposition, params, err := mime.ParseMediaType(v)
		if err != nil || disposition != "attachment" || params["filename"] != filename {
			t.Errorf("ContentDisposition(%q) = %q, parsed as %q %q (%v)", filename, v, disposition, params["filename"], err)
		}
	}
	if v := blob.ContentDisposition(""); v != "attachment" {
		t.Errorf(`ContentDisposition("") = %q, want "attachment"`, v)
	}
}
