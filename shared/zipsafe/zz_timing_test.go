package zipsafe_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"satchel.dev/shared/zipsafe"
)

func TestZZTiming(t *testing.T) {
	dir := os.Getenv("ZZDIR")
	if dir == "" {
		return
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		// corpus file format: "go test fuzz v1\n[]byte(...)"
		lines := bytes.SplitN(b, []byte("\n"), 2)
		s := string(bytes.TrimSpace(lines[1]))
		s = s[len("[]byte(") : len(s)-1]
		z, err := strconv.Unquote(s)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m, err := zipsafe.Scan(bytes.NewReader([]byte(z)), int64(len(z)), zipsafe.DefaultLimits())
		d := time.Since(start)
		t.Logf("%s len=%d scan %v entries=%d err=%v", e.Name(), len(z), d, len(m), err)
		if err == nil {
			start = time.Now()
			_, err = zipsafe.Extract(bytes.NewReader([]byte(z)), int64(len(z)), t.TempDir(), zipsafe.DefaultLimits())
			t.Logf("  extract %v err=%v", time.Since(start), err)
		}
	}
}
