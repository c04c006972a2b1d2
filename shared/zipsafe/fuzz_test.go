package zipsafe_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"satchel.dev/shared/zipsafe"
)

// FuzzScan checks that Scan never panics, refuses bad input only with a
// rule error (a bytes.Reader has no I/O errors), and that whatever it
// accepts Extract writes, with the same manifest, and nothing else.
func FuzzScan(f *testing.F) {
	for _, c := range hostileCorpus() {
		f.Add(c.zip(f))
	}
	for _, c := range goodCorpus() {
		f.Add(c.zip(f))
	}
	rules := []string{
		zipsafe.RuleFormat, zipsafe.RuleEmpty, zipsafe.RulePath, zipsafe.RuleDuplicate, zipsafe.RuleType,
		zipsafe.RuleEntries, zipsafe.RuleSize, zipsafe.RuleTotal, zipsafe.RuleRatio, zipsafe.RuleOverlap, zipsafe.RuleData,
	}
	f.Fuzz(func(t *testing.T, z []byte) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("SLOW %v", d)
			}
		}()
		lim := zipsafe.DefaultLimits()
		m, err := scan(z, lim)
		if err != nil {
			var ze *zipsafe.Error
			if !errors.As(err, &ze) || !slices.Contains(rules, ze.Rule) || ze.Reason == "" {
				t.Fatalf("Scan: %v (%T) is not a rule error", err, err)
			}
			return
		}
		dir := t.TempDir()
		x, err := zipsafe.Extract(bytes.NewReader(z), int64(len(z)), dir, lim)
		if err != nil {
			t.Fatalf("Scan accepted the zip but Extract: %v", err)
		}
		diffManifest(t, "Extract's manifest", x, m)
		files, _ := onDisk(t, dir)
		diffManifest(t, "files on disk", files, m)
	})
}
