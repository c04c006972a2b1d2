// Package rest is a small client for LND's REST API (the grpc-gateway in front of its gRPC
// services): TLS pinned to the node's own certificate, the macaroon as hex in the
// Grpc-Metadata-macaroon header, JSON bodies, and streams of one {"result":...} object per
// message. It knows nothing of the endpoints; package lnd and the regtest harness use it.
//
// The JSON conventions are grpc-gateway's: 64-bit integers are strings, bytes are standard
// base64 in bodies and URL-safe base64 in URL paths.
package rest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Client calls one LND node. It is safe for concurrent use.
type Client struct {
	base     string // https://host:port, no trailing slash
	macaroon string // hex; "" sends no macaroon (only /v1/state works without one)
	timeout  time.Duration
	http     *http.Client
}

// New returns a client for the node at baseURL whose TLS certificate is the PEM file
// certPath: the connection is accepted only if the node presents exactly that certificate
// (LND's certificate is self-signed, so its names and chain are not what is checked).
// macaroon is the raw macaroon (nil for none). timeout bounds each unary call.
func New(baseURL, certPath string, macaroon []byte, timeout time.Duration) (*Client, error) {
	pinned, err := ReadCert(certPath)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{
			MinVersion: tls.VersionTLS12,
			// Verification is replaced, not skipped: VerifyConnection accepts only the pinned
			// certificate.
			InsecureSkipVerify: true, //nolint:gosec // pinned below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(pinned) {
					return fmt.Errorf("the node's TLS certificate is not the one in %s", certPath)
				}
				return nil
			},
		},
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &Client{
		base:     strings.TrimRight(baseURL, "/"),
		macaroon: hex.EncodeToString(macaroon),
		timeout:  timeout,
		http:     &http.Client{Transport: tr},
	}, nil
}

// ReadCert reads the first certificate of a PEM file.
func ReadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read TLS certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("TLS certificate %s is not a PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s: %w", path, err)
	}
	return cert, nil
}

// CloseIdle closes the client's idle connections.
func (c *Client) CloseIdle() { c.http.CloseIdleConnections() }

// Error is an error answered by the node (or a non-JSON failure status).
type Error struct {
	Method, Path string
	HTTPStatus   int    // 0 for an error received inside a stream
	Code         int    // the gRPC status code (5 NotFound, 6 AlreadyExists, ...), 0 if none
	Message      string // the node's message
}

// gRPC status codes the callers test for.
const (
	CodeNotFound      = 5
	CodeAlreadyExists = 6
)

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.HTTPStatus)
	}
	b.WriteString(e.Message)
	return b.String()
}

// statusBody is a google.rpc.Status as grpc-gateway writes it, alone for a unary call or
// under "error" in a stream; older gateways wrote grpc_code and error.
type statusBody struct {
	Code     int    `json:"code"`
	GRPCCode int    `json:"grpc_code"`
	Message  string `json:"message"`
	Error    string `json:"error"`
}

func (s statusBody) toError(method, path string, httpStatus int) *Error {
	e := &Error{Method: method, Path: path, HTTPStatus: httpStatus, Code: s.Code, Message: s.Message}
	if e.Code == 0 {
		e.Code = s.GRPCCode
	}
	if e.Message == "" {
		e.Message = s.Error
	}
	return e
}

// Do calls a unary endpoint: in (if not nil) is sent as the JSON body, the JSON answer is
// decoded into out (if not nil). The call is bounded by the client's timeout.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, trimQuery(path), err)
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(method, path, resp.StatusCode, body)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, trimQuery(path), err)
	}
	return nil
}

// Stream is an open server stream. Close it when done.
type Stream struct {
	method, path string
	body         io.ReadCloser
	dec          *json.Decoder
}

// Stream opens a server-streaming endpoint. It returns once the node has answered the
// request's headers: grpc-gateway sends those only with the first message, so this blocks
// until there is one, or ctx is done. The stream has no timeout but ctx's.
func (c *Client) Stream(ctx context.Context, method, path string, in any) (*Stream, error) {
	resp, err := c.send(ctx, method, path, in)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, answerError(method, path, resp.StatusCode, body)
	}
	return &Stream{method: method, path: trimQuery(path), body: resp.Body, dec: json.NewDecoder(resp.Body)}, nil
}

// Next decodes the next message's result into out. An error message in the stream is
// returned as *Error; the end of the stream as io.EOF.
func (s *Stream) Next(out any) error {
	var msg struct {
		Result json.RawMessage `json:"result"`
		Error  *statusBody     `json:"error"`
	}
	if err := s.dec.Decode(&msg); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return fmt.Errorf("%s %s: read stream: %w", s.method, s.path, err)
	}
	if msg.Error != nil {
		return msg.Error.toError(s.method, s.path, 0)
	}
	if msg.Result == nil {
		return fmt.Errorf("%s %s: stream message has neither result nor error", s.method, s.path)
	}
	if err := json.Unmarshal(msg.Result, out); err != nil {
		return fmt.Errorf("%s %s: decode stream message: %w", s.method, s.path, err)
	}
	return nil
}

// Close ends the stream.
func (s *Stream) Close() error { return s.body.Close() }

func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode request: %w", method, trimQuery(path), err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, trimQuery(path), err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.macaroon != "" {
		req.Header.Set("Grpc-Metadata-macaroon", c.macaroon)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL (never a header, so never the macaroon).
		return nil, fmt.Errorf("%s %s: %w", method, trimQuery(path), err)
	}
	return resp, nil
}

func answerError(method, path string, status int, body []byte) error {
	path = trimQuery(path)
	// A unary call's error is a status; a stream's is one message {"error": status}.
	var wrapped struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &wrapped) == nil && len(wrapped.Error) > 0 && wrapped.Error[0] == '{' {
		body = wrapped.Error
	}
	var s statusBody
	if json.Unmarshal(body, &s) == nil && (s.Message != "" || s.Error != "") {
		return s.toError(method, path, status)
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{Method: method, Path: path, HTTPStatus: status, Message: msg}
}

// trimQuery drops a path's query string from messages.
func trimQuery(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[:i]
	}
	return path
}

// IsCode reports whether err is an *Error with the gRPC status code.
func IsCode(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// HasMessage reports whether err is an *Error whose message contains sub.
func HasMessage(err error, sub string) bool {
	var e *Error
	return errors.As(err, &e) && strings.Contains(e.Message, sub)
}
