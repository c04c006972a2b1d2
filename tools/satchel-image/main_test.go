package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestImage writes an image twice from the same inputs, loads it back as docker load would
// (its manifest.json, by tag), and checks its user, command and files, and that both runs
// wrote the same bytes.
func TestImage(t *testing.T) {
	dir := t.TempDir()
	bin, certs := filepath.Join(dir, "satchel-server"), filepath.Join(dir, "ca.crt")
	os.WriteFile(bin, []byte("\x7fELF binary"), 0o755)
	os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644)
	var outs [2][]byte
	for i := range outs {
		out := filepath.Join(dir, "image.tar")
		if err := run([]string{"-binary", bin, "-arch", "arm64", "-version", "v1.2.3-4-gabc+dirty", "-revision", "abc",
			"-epoch", "1700000000", "-ca-certs", certs, "-o", out}); err != nil {
			t.Fatal(err)
		}
		outs[i], _ = os.ReadFile(out)
	}
	if !bytes.Equal(outs[0], outs[1]) {
		t.Error("two runs on the same inputs wrote different images")
	}
	tag, _ := name.NewTag("satchel-server:v1.2.3-4-gabc-dirty")
	img, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(outs[0])), nil }, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Architecture != "arm64" || cfg.OS != "linux" || cfg.Config.User != "65532:65532" || cfg.Created.Unix() != 1700000000 ||
		!cmp.Equal(cfg.Config.Entrypoint, []string{"/usr/local/bin/satchel-server"}) || cfg.Config.Labels["org.opencontainers.image.version"] != "v1.2.3-4-gabc+dirty" {
		t.Errorf("config = %+v", cfg)
	}
	got := map[string]string{}
	tr := tar.NewReader(mutate.Extract(img))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = fmt.Sprintf("uid %d, mode %o", h.Uid, h.Mode)
	}
	for name, want := range map[string]string{
		"usr/local/bin/satchel-server":      "uid 0, mode 755",
		"etc/ssl/certs/ca-certificates.crt": "uid 0, mode 644",
		"var/lib/satchel":                   "uid 65532, mode 700",
		"tmp":                               "uid 0, mode 1777",
		"etc/passwd":                        "uid 0, mode 644",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
}
