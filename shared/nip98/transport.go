package nip98

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"satchel.dev/shared/nostr"
)

// Transport is an http.RoundTripper that signs every request with NIP-98:
// it reads the whole request body, hashes it, signs an event for the
// method, the absolute URL req.URL.String() and the body hash, and sends the
// request with "Authorization: Nostr ..." through Base.
//
//	client := &http.Client{Transport: &nip98.Transport{Signer: key}}
//
// The caller's request is not modified: a clone is sent, with the body
// restored from the bytes read and a GetBody that replays them (so redirects
// and retries work; a followed redirect is signed afresh for its own URL).
// The body is read from req.GetBody when it is set, else from req.Body. As
// http.RoundTripper requires, the caller's req.Body is closed. The body is
// held in memory, which suits API calls, not uploads of large files.
type Transport struct {
	// Signer signs the events. Required.
	Signer nostr.Signer
	// Base sends the signed requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Now gives the time to sign with; nil means time.Now.
	Now func() time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if t.Signer == nil {
		return nil, errors.New("nip98: Transport has no Signer")
	}
	if req.URL == nil {
		return nil, errors.New("nip98: request has no URL")
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet // as net/http sends it
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	auth, err := Header(t.Signer, method, req.URL.String(), body, now())
	if err != nil {
		return nil, err
	}

	out := req.Clone(req.Context())
	out.Header.Set("Authorization", auth)
	if len(body) == 0 {
		out.Body = http.NoBody
		out.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	} else {
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	out.ContentLength = int64(len(body))

	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(out)
}

// readBody returns the bytes of req's body and closes req.Body. If
// req.GetBody is set it reads a fresh copy from GetBody rather than
// consuming req.Body, so a request whose body was already read (a retry)
// still signs the right bytes. A nil or http.NoBody body is empty.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	src := req.Body
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("nip98: getting the request body to sign it: %w", err)
		}
		defer rc.Close()
		src = rc
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, fmt.Errorf("nip98: reading the request body to sign it: %w", err)
	}
	return b, nil
}
