// Command satchel-image writes the container image of satchel-server as a tarball that
// `docker load` and `podman load` read, built without a container daemon
// (go-containerregistry). `make dist` runs it once per architecture.
//
//	satchel-image -binary dist/satchel-server-linux-amd64 -arch amd64 -version v1.2.3 \
//	    -revision COMMIT -epoch SECONDS -o dist/satchel-server-image-linux-amd64.tar
//
// The image has one layer: the static binary at /usr/local/bin/satchel-server, the CA
// certificates of the machine that builds it (for TLS to LND, S3 and Nostr relays), a passwd
// entry for the user it runs as (satchel, uid and gid 65532: never root), /tmp, and
// /var/lib/satchel (SATCHEL_DATA_DIR: the server secret and the local build store; mount a
// volume there). It listens on :8080 and brings no PostgreSQL: operators give it
// DATABASE_URL. Every timestamp is -epoch and every file is written in a fixed order, so the
// same inputs give the same bytes.
//
// This module stays out of go.work, so the image builder's dependencies never enter the
// server's module graph: run it with GOWORK=off.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The user the server runs as, and its home: the data folder.
const (
	uid     = 65532
	dataDir = "/var/lib/satchel"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "satchel-image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("satchel-image", flag.ContinueOnError)
	binary := fs.String("binary", "", "the linux satchel-server binary, built with CGO_ENABLED=0")
	arch := fs.String("arch", "", "its architecture: amd64 or arm64")
	version := fs.String("version", "", "the version, for the tag and the image's labels")
	revision := fs.String("revision", "", "the commit, for the image's labels")
	epoch := fs.Int64("epoch", 0, "seconds since 1970 written as every timestamp (the commit's time)")
	caCerts := fs.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the CA certificates bundle to include")
	out := fs.String("o", "", "the tarball to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *binary == "" || *arch == "" || *version == "" || *out == "" {
		return errors.New("-binary, -arch, -version and -o are required")
	}
	bin, err := os.ReadFile(*binary)
	if err != nil {
		return err
	}
	certs, err := os.ReadFile(*caCerts)
	if err != nil {
		return fmt.Errorf("%w (install Debian's ca-certificates, or pass -ca-certs)", err)
	}
	at := time.Unix(*epoch, 0).UTC()
	layer, err := rootfs(bin, certs, at)
	if err != nil {
		return err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer,
		History: v1.History{Created: v1.Time{Time: at}, CreatedBy: "satchel-image " + *version}})
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS, cfg.Created = *arch, "linux", v1.Time{Time: at}
	cfg.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", uid, uid),
		WorkingDir:   dataDir,
		Entrypoint:   []string{"/usr/local/bin/satchel-server"},
		Cmd:          []string{"serve"},
		Env:          []string{"SATCHEL_DATA_DIR=" + dataDir, "SATCHEL_LISTEN=:8080", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		Labels: map[string]string{
			"org.opencontainers.image.title":    "satchel-server",
			"org.opencontainers.image.version":  *version,
			"org.opencontainers.image.revision": *revision,
		},
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	tag, err := name.NewTag("satchel-server:" + tagOf(*version))
	if err != nil {
		return err
	}
	return tarball.WriteToFile(*out, tag, img)
}

// tagOf makes a version a valid image tag: git describe's "+" and other characters become "-".
func tagOf(version string) string {
	b := []byte(version)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// rootfs is the image's one layer, every entry dated at.
func rootfs(bin, certs []byte, at time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nsatchel:x:%d:%d:satchel:%s:/sbin/nologin\n", uid, uid, dataDir)
	group := fmt.Sprintf("root:x:0:\nsatchel:x:%d:\n", uid)
	entries := []struct {
		name string
		mode int64
		uid  int
		body []byte // nil for a directory
	}{
		{"etc/", 0o755, 0, nil},
		{"etc/group", 0o644, 0, []byte(group)},
		{"etc/passwd", 0o644, 0, []byte(passwd)},
		{"etc/ssl/", 0o755, 0, nil},
		{"etc/ssl/certs/", 0o755, 0, nil},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, 0, certs},
		{"tmp/", 0o1777, 0, nil},
		{"usr/", 0o755, 0, nil},
		{"usr/local/", 0o755, 0, nil},
		{"usr/local/bin/", 0o755, 0, nil},
		{"usr/local/bin/satchel-server", 0o755, 0, bin},
		{"var/", 0o755, 0, nil},
		{"var/lib/", 0o755, 0, nil},
		{dataDir[1:] + "/", 0o700, uid, nil},
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: at, Format: tar.FormatPAX, Typeflag: tar.TypeDir}
		if e.body != nil {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
}
