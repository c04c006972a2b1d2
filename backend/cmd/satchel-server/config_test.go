package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/backend/server"
	"satchel.dev/shared/nostr"
)

func TestParseConfig(t *testing.T) {
	k, _ := nostr.GenerateKey()
	npub, hex := k.PublicKey().Npub(), k.PublicKey().Hex()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    server.Config
		wantErr string
	}{
		{name: "embedded defaults", want: server.Config{Listen: "127.0.0.1:8080", DataDir: ".data", MaxBodyBytes: 1 << 20, LogFormat: "text", FeeBps: 1000}},
		{
			name: "environment",
			env: map[string]string{"SATCHEL_LISTEN": "127.0.0.1:9000", "DATABASE_URL": "postgres://db/satchel",
				"SATCHEL_ADMINS": npub + ", " + hex, "SATCHEL_DEMO": "true", "SATCHEL_MAX_BODY_BYTES": "4096"},
			want: server.Config{Listen: "127.0.0.1:9000", DatabaseURL: "postgres://db/satchel", DataDir: ".data", Admins: []string{hex, hex},
				Demo: true, MaxBodyBytes: 4096, LogFormat: "text", FeeBps: 1000},
		},
		{
			name: "a flag wins over its variable",
			args: []string{"--listen", "[::1]:7000", "--demo=false"},
			env:  map[string]string{"SATCHEL_LISTEN": "127.0.0.1:9000", "SATCHEL_DEMO": "true"},
			want: server.Config{Listen: "[::1]:7000", DataDir: ".data", MaxBodyBytes: 1 << 20, LogFormat: "text", FeeBps: 1000},
		},
		{
			name: "behind a TLS proxy",
			args: []string{"--listen", "0.0.0.0:8080", "--behind-tls-proxy", "--public-url", "https://store.example.com/"},
			want: server.Config{Listen: "0.0.0.0:8080", PublicURL: "https://store.example.com", BehindTLSProxy: true, DataDir: ".data",
				MaxBodyBytes: 1 << 20, LogFormat: "text", FeeBps: 1000},
		},
		{
			name: "announcing and metrics",
			args: []string{"--nostr-relays", "wss://relay.example.com, ws://127.0.0.1:7777", "--nostr-key-file", "/etc/satchel/nostr.key",
				"--metrics-listen", "127.0.0.1:9090", "--game-link", "https://store.example.com/g/{slug}"},
			want: server.Config{Listen: "127.0.0.1:8080", DataDir: ".data", MaxBodyBytes: 1 << 20, LogFormat: "text", FeeBps: 1000,
				NostrRelays: []string{"wss://relay.example.com", "ws://127.0.0.1:7777"}, NostrKeyFile: "/etc/satchel/nostr.key",
				MetricsListen: "127.0.0.1:9090", GameLink: "https://store.example.com/g/{slug}"},
		},
		{
			name: "the platform's key from the environment",
			env:  map[string]string{"SATCHEL_NOSTR_RELAYS": "wss://relay.example.com", "SATCHEL_NOSTR_KEY": k.Nsec()},
			want: server.Config{Listen: "127.0.0.1:8080", DataDir: ".data", MaxBodyBytes: 1 << 20, LogFormat: "text", FeeBps: 1000,
				NostrRelays: []string{"wss://relay.example.com"}, NostrKey: k.Nsec()},
		},
		{name: "relays without a key", args: []string{"--nostr-relays", "wss://relay.example.com"}, wantErr: "needs the platform's key"},
		{name: "a key that is not one", env: map[string]string{"SATCHEL_NOSTR_RELAYS": "wss://r.example", "SATCHEL_NOSTR_KEY": "nsec1oops"}, wantErr: "SATCHEL_NOSTR_KEY is not"},
		{name: "a relay that is not a WebSocket", args: []string{"--nostr-relays", "https://relay.example.com", "--nostr-key-file", "k"}, wantErr: "ws:// or wss://"},
		{name: "a game link without the slug", args: []string{"--game-link", "https://store.example.com/"}, wantErr: "{slug}"},
		{name: "metrics on the public listener", args: []string{"--metrics-listen", "127.0.0.1:8080"}, wantErr: "never served on the public listener"},
		{name: "public address without TLS", args: []string{"--listen", "0.0.0.0:8080"}, wantErr: "without TLS"},
		{name: "proxy without an https public URL", args: []string{"--listen", "0.0.0.0:8080", "--behind-tls-proxy"}, wantErr: "--public-url https://"},
		{name: "certificate without key", args: []string{"--tls-cert", "c.pem"}, wantErr: "both --tls-cert and --tls-key"},
		{name: "public URL with a path", args: []string{"--public-url", "https://x.example/api"}, wantErr: "no path"},
		{name: "bad listen address", args: []string{"--listen", "8080"}, wantErr: "host:port"},
		{name: "bad admin key", env: map[string]string{"SATCHEL_ADMINS": "npub1nothing"}, wantErr: "admin"},
		{name: "bad boolean", env: map[string]string{"SATCHEL_DEMO": "yes please"}, wantErr: "SATCHEL_DEMO"},
		{name: "bad body limit", env: map[string]string{"SATCHEL_MAX_BODY_BYTES": "12"}, wantErr: "max-body-bytes"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "log-format"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig("test", tt.args, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want.WithDefaults(), got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}
