package builds_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"satchel.dev/backend/builds"
)

// Upload URLs live minutes; an upload can be finished for longer, never shorter.
func TestConfigExpiries(t *testing.T) {
	secret := bytes.Repeat([]byte{1}, 16)
	for _, tc := range []struct {
		name                   string
		cfg                    builds.Config
		wantUpload, wantFinish time.Duration
		wantErr                bool
	}{
		{"defaults", builds.Config{}, 15 * time.Minute, 2 * time.Hour, false},
		{"a short URL", builds.Config{UploadExpiry: time.Second}, time.Second, 2 * time.Hour, false},
		{"a URL longer than the default window", builds.Config{UploadExpiry: 3 * time.Hour}, 3 * time.Hour, 3 * time.Hour, false},
		{"a window shorter than the URL", builds.Config{UploadExpiry: time.Hour, FinishWithin: time.Minute}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.IPHashSecret = secret
			_, err := builds.New(nil, nil, tc.cfg, slog.Default())
			if (err != nil) != tc.wantErr {
				t.Fatalf("New: %v, want an error: %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			c := tc.cfg.WithDefaults()
			if c.UploadExpiry != tc.wantUpload || c.FinishWithin != tc.wantFinish {
				t.Errorf("UploadExpiry %v, FinishWithin %v; want %v, %v", c.UploadExpiry, c.FinishWithin, tc.wantUpload, tc.wantFinish)
			}
		})
	}
}
