//go:build e2e

package app

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/launch"
)

// TestWindowEndToEnd drives the window as a player would: `wails dev` serves the app with its
// real Go bindings (over the real server, database and keyring), and Playwright, in Debian's
// chromium, clicks through it (desktop/frontend/e2e/player.e2e.ts): create an identity, buy a
// demo game with test money, watch it install, play it (the demo build writes a marker), then
// as its developer upload and publish a new version, and watch the player's copy update
// itself and play the new version. Last, with a checkout open, the server stops and starts
// again (when Playwright prints restartLine) and the invoice is paid after the restart.
func TestWindowEndToEnd(t *testing.T) {
	d := startDisplay(t)
	root := t.TempDir()
	dir := desktopDir(t)
	marker := filepath.Join(root, "marker")

	// The new version of Lantern Drift the developer ships: its program prints another title.
	const version = "1.1.0"
	files, err := testenv.GameBuild(filepath.Join(env.bin, "satchel-demo-game"), "lantern-drift", "Lantern Drift "+version, nil,
		testenv.File{Name: "rivers/fourth.txt", Body: []byte("a fourth river\n")})
	if err != nil {
		t.Fatal(err)
	}
	zip := filepath.Join(root, "lantern-drift-"+version+".zip")
	if _, _, err := testenv.WriteZip(zip, files); err != nil {
		t.Fatal(err)
	}

	port := freePort(t)
	wails := spawn(t, dir, windowEnv(d, filepath.Join(root, "data"), filepath.Join(root, "config"),
		"SATCHEL_DEMO_MARKER="+marker, launch.TerminalEnv+"=env"), // no terminal window here: the terminal game runs directly
		wailsCLI(t), "dev", "-m", "-nosyncgomod", "-s", "-skipbindings", "-noreload", "-nogorebuild", "-nocolour",
		"-loglevel", "Warning", "-devserver", fmt.Sprintf("127.0.0.1:%d", port))
	defer func() {
		wails.stop()
		if t.Failed() {
			t.Logf("wails dev:\n%s", wails.out)
		}
	}()
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	waitHTTP(t, url, 4*time.Minute, wails)

	key := testenv.DemoDeveloperKey()
	vitest := filepath.Join(dir, "frontend", "node_modules", ".bin", "vitest")
	pw := spawn(t, filepath.Join(dir, "frontend"), append(os.Environ(),
		"SATCHEL_E2E_URL="+url, "SATCHEL_E2E_MARKER="+marker, "SATCHEL_E2E_DEV_KEY="+hex.EncodeToString(key[:]),
		"SATCHEL_E2E_BUILD="+zip, "SATCHEL_E2E_VERSION="+version),
		vitest, "run", "--config", "vitest.e2e.config.ts")
	restarted := make(chan error, 1)
	go func() { restarted <- restartOnRequest(pw) }()
	select {
	case <-pw.done:
	case <-time.After(8 * time.Minute):
		pw.stop()
	}
	if err := <-restarted; err != nil {
		t.Errorf("restarting the server: %v", err)
	}
	t.Logf("playwright:\n%s", pw.out)
	if pw.cmd.ProcessState == nil || !pw.cmd.ProcessState.Success() {
		t.Fatal("the Playwright test failed (above)")
	}
	b, _ := os.ReadFile(marker)
	runs := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(runs) != 2 || !strings.HasPrefix(runs[0], "Lantern Drift ") || !strings.HasPrefix(runs[1], "Lantern Drift "+version+" ") {
		t.Errorf("the marker of the games played: %q", b)
	}
}

// restartLine is what the Playwright test prints to have the server stopped and started again
// on the same address, its checkout open.
const restartLine = "SATCHEL_E2E_RESTART_SERVER"

// restartOnRequest waits until pw prints restartLine (or ends), then stops the server of the
// tests and starts it again over the same data, on the same address (env.server is the new
// one).
func restartOnRequest(pw *process) error {
	for {
		pw.out.mu.Lock()
		asked := strings.Contains(strings.Join(pw.out.seen, ""), restartLine)
		pw.out.mu.Unlock()
		if asked {
			break
		}
		select {
		case <-pw.out.wake:
		case <-pw.done:
			return nil
		}
	}
	u, err := url.Parse(env.server.URL)
	if err != nil {
		return err
	}
	_ = env.server.Stop() // its exit code is the server's business here
	srv, err := testenv.StartServer(env.bin, filepath.Join(env.root, "server"), "--listen", u.Host)
	if err != nil {
		return err
	}
	env.server = srv
	return nil
}
