package zipsafe_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// FuzzNames builds zips of two entries with fuzzed names and attributes,
// and checks that whatever Scan accepts is a local, clean, distinct pair of
// names that Extract writes inside its directory and nowhere else.
func FuzzNames(f *testing.F) {
	for _, c := range hostileCorpus() {
		if c.rule == zipsafe.RulePath || c.rule == zipsafe.RuleDuplicate {
			f.Add(c.entry, "x", uint32(0o100644<<16), false)
		}
	}
	f.Add("a/b", "A/B/c", uint32(0o100755<<16), true)
	f.Add("Game.exe", "game.EXE", uint32(0x20), false)
	f.Add("a/", "a/b", uint32(0o040755<<16|0x10), false)
	f.Fuzz(func(t *testing.T, name1, name2 string, attrs uint32, store bool) {
		var b bytes.Buffer
		w := zip.NewWriter(&b)
		for _, name := range []string{name1, name2} {
			fh := &zip.FileHeader{Name: name, Method: zip.Deflate, CreatorVersion: 3 << 8, ExternalAttrs: attrs}
			if store {
				fh.Method = zip.Store
			}
			fw, err := w.CreateHeader(fh)
			if err != nil {
				return // a name archive/zip cannot write (over 64 KiB)
			}
			if !strings.HasSuffix(name, "/") {
				fw.Write([]byte(name))
			}
		}
		must(t, w.Close())
		z := b.Bytes()
		m, err := scan(z, zipsafe.DefaultLimits())
		if err != nil {
			var ze *zipsafe.Error
			if !errors.As(err, &ze) {
				t.Fatalf("Scan: %v (%T) is not a rule error", err, err)
			}
			return
		}
		for _, name := range []string{name1, name2} {
			p := strings.TrimSuffix(name, "/")
			if !filepath.IsLocal(p) || path.Clean(p) != p || strings.ContainsAny(p, "\\:\x00") {
				t.Fatalf("Scan accepted the name %q", name)
			}
		}
		if strings.EqualFold(name1, name2) || strings.EqualFold(strings.TrimSuffix(name1, "/"), strings.TrimSuffix(name2, "/")) {
			t.Fatalf("Scan accepted %q and %q", name1, name2)
		}
		base := t.TempDir()
		dir := filepath.Join(base, "root")
		must(t, os.Mkdir(dir, 0o755))
		x, err := zipsafe.Extract(bytes.NewReader(z), int64(len(z)), dir, zipsafe.DefaultLimits())
		if err != nil {
			t.Fatalf("Scan accepted the zip but Extract: %v", err)
		}
		diffManifest(t, "Extract's manifest", x, m)
		if ents, _ := os.ReadDir(base); len(ents) != 1 {
			t.Fatalf("Extract wrote outside its directory: %v", ents)
		}
		files, _ := onDisk(t, dir)
		diffManifest(t, "files on disk", files, m)
	})
}
