// Package testenv starts the real parts the launcher's tests run against: the satchel-server
// binary with its private PostgreSQL cluster and the demo catalog, a private D-Bus session
// with a real Secret Service (gnome-keyring), a TCP proxy that can cut connections, and build
// zips. It is for tests only.
package testenv

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"satchel.dev/shared/nostr"
)

// Build builds Go packages (import paths, resolved in the workspace) into dir.
func Build(dir string, pkgs ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	return nil
}

// ServerPackages are the server and the demo game its builds carry, for Build.
func ServerPackages() []string {
	return []string{"satchel.dev/backend/cmd/satchel-server", "satchel.dev/backend/cmd/satchel-demo-game"}
}

// DemoDeveloperKey is the demo catalog's developer (backend/demo.DeveloperKey).
func DemoDeveloperKey() nostr.SecretKey {
	return nostr.SecretKey(sha256.Sum256([]byte("satchel demo developer")))
}

// Server is a running satchel-server.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	done chan error
	mu   sync.Mutex
	logs bytes.Buffer
}

var servingLine = regexp.MustCompile(`serving on (\S+) `)

// StartServer runs `satchel-server serve --demo --listen 127.0.0.1:0 --data-dir dataDir`
// from binDir (where Build put ServerPackages) and waits until it serves.
func StartServer(binDir, dataDir string, extra ...string) (*Server, error) {
	args := append([]string{"serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir}, extra...)
	cmd := exec.Command(filepath.Join(binDir, "satchel-server"), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, done: make(chan error, 1)}
	cmd.Stderr = (*lockedBuffer)(s)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.URL = <-urls:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("satchel-server exited before serving: %v\n%s", err, s.Logs())
	case <-time.After(90 * time.Second):
		s.Stop()
		return nil, fmt.Errorf("satchel-server did not start in 90s\n%s", s.Logs())
	}
}

type lockedBuffer Server

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logs.Write(p)
}

// Logs returns what the server logged.
func (s *Server) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

// Stop stops the server with SIGTERM (it stops its cluster) and waits for it.
func (s *Server) Stop() error {
	if s.cmd.ProcessState != nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		return errors.New("satchel-server did not stop in 60s")
	}
}

// Daemon is a background process started by this package.
type Daemon struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startDaemon(cmd *exec.Cmd) (*Daemon, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &Daemon{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(d.done)
	}()
	return d, nil
}

// Stop ends the process (SIGTERM, then SIGKILL) and waits for it.
func (d *Daemon) Stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// Bus is a private D-Bus session bus. It has no service activation, so only the services
// started on it exist: a bus without a Secret Service stays without one.
type Bus struct {
	Address string
	daemon  *Daemon
}

// StartBus starts a session bus listening in dir.
func StartBus(dir string) (*Bus, error) {
	sock := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=`+sock+`</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>
`), 0o600)
	if err != nil {
		return nil, err
	}
	d, err := startDaemon(exec.Command("dbus-daemon", "--config-file="+conf, "--nofork"))
	if err != nil {
		return nil, fmt.Errorf("starting dbus-daemon (apt-get install dbus): %w", err)
	}
	if err := waitFor(func() bool { _, err := os.Stat(sock); return err == nil }); err != nil {
		d.Stop()
		return nil, errors.New("dbus-daemon did not create its socket")
	}
	return &Bus{Address: "unix:path=" + sock, daemon: d}, nil
}

// Stop stops the bus.
func (b *Bus) Stop() { b.daemon.Stop() }

// Keyring is a gnome-keyring-daemon serving the Secret Service on a Bus.
type Keyring struct {
	daemon *Daemon
}

// StartKeyring runs gnome-keyring-daemon (secrets only) on bus, keeping its keyrings under
// dataDir/keyrings and its sockets in runtimeDir. With unlock, the login keyring is unlocked
// (created on first use) with the password "test"; without, an existing login keyring stays
// locked.
func StartKeyring(bus *Bus, dataDir, runtimeDir string, unlock bool) (*Keyring, error) {
	args := []string{"--foreground", "--components=secrets"}
	if unlock {
		args = append(args, "--unlock")
	}
	cmd := exec.Command("gnome-keyring-daemon", args...)
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS="+bus.Address, "XDG_DATA_HOME="+dataDir,
		"XDG_RUNTIME_DIR="+runtimeDir)
	cmd.Env = withoutVar(cmd.Env, "DISPLAY")
	if unlock {
		cmd.Stdin = strings.NewReader("test")
	}
	d, err := startDaemon(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting gnome-keyring-daemon (apt-get install gnome-keyring): %w", err)
	}
	// Ready when it owns org.freedesktop.secrets on the bus.
	err = waitFor(func() bool {
		out, err := exec.Command("dbus-send", "--bus="+bus.Address, "--print-reply", "--dest=org.freedesktop.DBus",
			"/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets").Output()
		return err == nil && strings.Contains(string(out), "true")
	})
	if err != nil {
		d.Stop()
		return nil, errors.New("gnome-keyring-daemon did not start serving the Secret Service")
	}
	return &Keyring{daemon: d}, nil
}

// Stop stops the keyring daemon.
func (k *Keyring) Stop() { k.daemon.Stop() }

func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func waitFor(cond func() bool) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("timed out")
}

// Session is a private D-Bus session with an unlocked gnome-keyring: a real Secret Service.
type Session struct {
	Bus     *Bus
	Keyring *Keyring
	// Env holds DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR for processes that use it.
	Env []string
}

// StartSession starts a bus and an unlocked keyring under dir (which must be short enough
// for a Unix socket path) and returns them.
func StartSession(dir string) (*Session, error) {
	run := filepath.Join(dir, "run")
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(run, 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(run, 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	bus, err := StartBus(dir)
	if err != nil {
		return nil, err
	}
	kr, err := StartKeyring(bus, data, run, true)
	if err != nil {
		bus.Stop()
		return nil, err
	}
	return &Session{Bus: bus, Keyring: kr, Env: []string{"DBUS_SESSION_BUS_ADDRESS=" + bus.Address, "XDG_RUNTIME_DIR=" + run}}, nil
}

// Setenv puts the session's variables in this process's environment, for go-keyring (which
// reads DBUS_SESSION_BUS_ADDRESS when it first connects) and for child processes.
func (s *Session) Setenv() error {
	for _, kv := range s.Env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return err
		}
	}
	return os.Unsetenv("DISPLAY")
}

// Stop stops the keyring and the bus.
func (s *Session) Stop() {
	s.Keyring.Stop()
	s.Bus.Stop()
}

// File is one entry of a zip made by WriteZip.
type File struct {
	Name string
	Mode os.FileMode // 0 means 0644
	Body []byte
	// Store keeps the entry uncompressed.
	Store bool
}

// WriteZip writes a zip of files to path and returns its sha256 (hex) and size.
func WriteZip(path string, files []File) (string, int64, error) {
	out, err := os.Create(path)
	if err != nil {
		return "", 0, err
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	for _, f := range files {
		hdr := &zip.FileHeader{Name: f.Name, Method: zip.Deflate}
		if f.Store {
			hdr.Method = zip.Store
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		hdr.SetMode(mode)
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return "", 0, err
		}
		if _, err := w.Write(f.Body); err != nil {
			return "", 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return "", 0, err
	}
	if err := out.Close(); err != nil {
		return "", 0, err
	}
	return HashFile(path)
}

// HashFile returns the hex sha256 and size of a file.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// GameBuild returns the files of a launchable build: the satchel-demo-game program at
// bin/<slug>, a satchel.toml that runs it with title and args, and a README. extra files are
// added as they are.
func GameBuild(demoGame, slug, title string, args []string, extra ...File) ([]File, error) {
	bin, err := os.ReadFile(demoGame)
	if err != nil {
		return nil, err
	}
	quoted := []string{`"-title"`, fmt.Sprintf("%q", title)}
	for _, a := range args {
		quoted = append(quoted, fmt.Sprintf("%q", a))
	}
	toml := fmt.Sprintf("[launch.linux-amd64]\nexec = %q\nargs = [%s]\n", "bin/"+slug, strings.Join(quoted, ", "))
	files := []File{
		{Name: "satchel.toml", Body: []byte(toml)},
		{Name: "README.txt", Body: []byte(title + "\n")},
		{Name: "bin/" + slug, Mode: 0o755, Body: bin},
	}
	return append(files, extra...), nil
}

// Proxy forwards TCP connections to a target and can drop them all at once, or refuse new
// ones, to play a network that fails.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	refused bool
}

// StartProxy listens on a loopback port and forwards to target (host:port).
func StartProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.refused {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *Proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Cut drops every open connection; with refuse, new ones are refused until Restore.
func (p *Proxy) Cut(refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = refuse
	for c := range p.conns {
		c.Close()
	}
}

// Restore accepts connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = false
}

// Close stops the proxy.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Cut(true)
}
