package rpc_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPayoutAddressCheckedLive sets Lightning Addresses served by a local LNURL server that
// answers in every way an address can fail: each is refused with its reason, and the address
// the developer had stays.
func TestPayoutAddressCheckedLive(t *testing.T) {
	b := setup(t)
	payRequest := func(tag string, min, max int64) string {
		return fmt.Sprintf(`{"tag":%q,"callback":"http://127.0.0.1:1/cb","minSendable":%d,"maxSendable":%d,"metadata":"[[\"text/plain\",\"x\"]]"}`, tag, min, max)
	}
	answers := map[string]string{
		"good":    payRequest("payRequest", 1000, 1_000_000),
		"highmin": payRequest("payRequest", 2_000_000, 5_000_000),
		"lowmax":  payRequest("payRequest", 1000, 100_000),
		"channel": payRequest("channelRequest", 1000, 1_000_000),
		"refuses": `{"status":"ERROR","reason":"no such user"}`,
	}
	lnurl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, ok := answers[strings.TrimPrefix(r.URL.Path, "/.well-known/lnurlp/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(lnurl.Close)
	host := strings.TrimPrefix(lnurl.URL, "http://")
	closed, _ := net.Listen("tcp", "127.0.0.1:0") // a port nothing answers on
	closedHost := closed.Addr().String()
	closed.Close()

	// The owner sells a 1,000-sat game: 900 sats are theirs after the 10 % fee.
	tests := []struct{ address, code, message string }{
		{"good@" + host, "ok", ""},
		{"highmin@" + host, "invalid_argument", "accepts 2,000 to 5,000 sats, but your share of a sale is 900 to 900 sats"},
		{"lowmax@" + host, "invalid_argument", "accepts 1 to 100 sats, but your share of a sale is 900 to 900 sats"},
		{"channel@" + host, "invalid_argument", `its tag is "channelRequest", not "payRequest"`},
		{"refuses@" + host, "invalid_argument", `refused: "no such user"`},
		{"missing@" + host, "invalid_argument", "answered HTTP 404"},
		{"nobody@" + closedHost, "invalid_argument", "could not be reached"},
		{"not an address", "invalid_argument", "name@domain"},
	}
	for _, tc := range tests {
		r := b.call(owner, "satchel.developer.v1.DeveloperService/SetPayoutAddress", fmt.Sprintf(`{"lnAddress":%q}`, tc.address))
		if r.code != tc.code || !strings.Contains(r.message, tc.message) {
			t.Errorf("%s: %s %q, want %s %q", tc.address, r.code, r.message, tc.code, tc.message)
		}
	}
	me := b.call(owner, "satchel.account.v1.AccountService/GetMe", `{}`).body["user"].(map[string]any)
	if got := me["developer"].(map[string]any)["payoutLnAddress"]; got != "good@"+host {
		t.Errorf("after the refusals the address is %v, want the last good one", got)
	}
}
