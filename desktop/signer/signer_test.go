package signer_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"satchel.dev/desktop/internal/testenv"
	"satchel.dev/desktop/signer"
	"satchel.dev/shared/nostr"
)

// These tests use a real Secret Service: a private D-Bus session with gnome-keyring, started
// here. go-keyring connects to it through DBUS_SESSION_BUS_ADDRESS. (Never keyring.MockInit
// in this package: it would swap the backend for the whole process.)
func TestMain(m *testing.M) {
	if os.Getenv("SIGNER_TEST_CHILD") != "" {
		os.Exit(m.Run()) // a child of TestKeyringUnavailable: its environment is set up
	}
	dir, err := os.MkdirTemp("", "kr")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sess, err := testenv.StartSession(dir)
	if err == nil {
		err = sess.Setenv()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting a private Secret Service:", err)
		os.Exit(1)
	}
	code := m.Run()
	sess.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// dirs returns fresh data and config folders, as the launcher's.
func dirs(t *testing.T) (data, config string) {
	root := t.TempDir()
	return filepath.Join(root, "data"), filepath.Join(root, "config")
}

func TestLifecycleSurvivesRestart(t *testing.T) {
	_, config := dirs(t)
	st := signer.NewStore(config, signer.OSKeyring{})
	created, err := st.Create("main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Npub(), "npub1") {
		t.Errorf("npub = %q", created.Npub())
	}

	// A new store over the same folders is the launcher restarted: the key is still there.
	restarted := signer.NewStore(config, signer.OSKeyring{})
	s, err := restarted.Signer("")
	if err != nil {
		t.Fatalf("after a restart: %v", err)
	}
	if s.PublicKey() != created.PublicKey {
		t.Fatalf("the restarted signer signs as %s, want %s", s.PublicKey().Npub(), created.Npub())
	}
	ev := &nostr.Event{Kind: 27235, CreatedAt: time.Now().Unix(), Tags: [][]string{{"u", "http://x"}}}
	if err := s.SignEvent(ev); err != nil {
		t.Fatal(err)
	}
	if err := ev.Verify(); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", s, s, s), "nsec1") {
		t.Error("printing a Signer shows its key")
	}

	nsec, err := restarted.Export("main")
	if err != nil {
		t.Fatal(err)
	}
	key, err := nostr.ParseSecretKey(nsec)
	if err != nil || key.PublicKey() != created.PublicKey {
		t.Fatalf("export gave a key of %v (%v), want %s", key.PublicKey().Npub(), err, created.Npub())
	}

	if _, err := restarted.Remove(created.Npub()); err != nil {
		t.Fatal(err)
	}
	if _, err := signer.NewStore(config, signer.OSKeyring{}).Signer(""); !errors.Is(err, signer.ErrNoIdentity) {
		t.Errorf("after remove, Signer = %v, want ErrNoIdentity", err)
	}
	if _, err := (signer.OSKeyring{}).Get(signer.Service, created.PublicKey.Hex()); !errors.Is(err, signer.ErrSecretNotFound) {
		t.Errorf("after remove, the keyring still has the key (%v)", err)
	}
}

func TestImport(t *testing.T) {
	key, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input string
		wantErr     bool
	}{
		{"nsec", key.Nsec(), false},
		{"hex", key.Hex(), false},
		{"upper hex with spaces", "  " + strings.ToUpper(key.Hex()) + "\n", false},
		{"npub is not a secret", key.PublicKey().Npub(), true},
		{"truncated nsec", key.Nsec()[:40], true},
		{"not hex", strings.Repeat("zz", 32), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, config := dirs(t)
			st := signer.NewStore(config, signer.OSKeyring{})
			id, err := st.Import(tt.input, "")
			if tt.wantErr {
				if err == nil {
					t.Fatal("import succeeded")
				}
				if strings.Contains(err.Error(), strings.TrimSpace(tt.input)) {
					t.Errorf("the error quotes the input: %v", err)
				}
				if _, err := os.Stat(filepath.Join(config, "identities.json")); !errors.Is(err, fs.ErrNotExist) {
					t.Error("a refused import wrote the identity list")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.PublicKey != key.PublicKey() {
				t.Errorf("imported %s, want %s", id.Npub(), key.PublicKey().Npub())
			}
			// Importing again keeps one identity.
			if _, err := st.Import(key.Nsec(), "again"); err != nil {
				t.Fatal(err)
			}
			ids, active, err := st.List()
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, id := range ids {
				got = append(got, id.Npub()+" "+id.Label)
			}
			if diff := cmp.Diff([]string{key.PublicKey().Npub() + " again"}, got); diff != "" || active != key.PublicKey() {
				t.Errorf("identities (-want +got):\n%s active %s", diff, active.Npub())
			}
			_, _ = st.Remove(id.Npub())
		})
	}
}

func TestResolveAndUse(t *testing.T) {
	_, config := dirs(t)
	st := signer.NewStore(config, signer.OSKeyring{})
	a, err := st.Create("alice")
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Create("bob")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Remove(a.Npub()); st.Remove(b.Npub()) })
	for _, ref := range []string{"alice", a.Npub(), a.PublicKey.Hex()} {
		if id, err := st.Resolve(ref); err != nil || id.PublicKey != a.PublicKey {
			t.Errorf("Resolve(%q) = %v, %v; want alice", ref, id.Npub(), err)
		}
	}
	if id, _ := st.Resolve(""); id.PublicKey != b.PublicKey {
		t.Errorf("the active identity is %s, want bob (the last created)", id.Label)
	}
	if _, err := st.Use("alice"); err != nil {
		t.Fatal(err)
	}
	s, err := st.Signer("")
	if err != nil || s.PublicKey() != a.PublicKey {
		t.Errorf("after Use(alice), Signer signs as %v (%v)", s, err)
	}
	if _, err := st.Resolve("carol"); !errors.Is(err, signer.ErrNoIdentity) {
		t.Errorf("Resolve(carol) = %v, want ErrNoIdentity", err)
	}
}

// TestKeyNeverOnDisk: after creating, importing, using and exporting identities, no file under
// the launcher's data and config folders holds a secret key in any form.
func TestKeyNeverOnDisk(t *testing.T) {
	data, config := dirs(t)
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	st := signer.NewStore(config, signer.OSKeyring{})
	created, err := st.Create("")
	if err != nil {
		t.Fatal(err)
	}
	imported, err := nostr.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(imported.Nsec(), ""); err != nil {
		t.Fatal(err)
	}
	createdNsec, err := st.Export(created.Npub())
	if err != nil {
		t.Fatal(err)
	}
	createdKey, _ := nostr.ParseSecretKey(createdNsec)
	if _, err := st.Signer(""); err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{}
	for _, k := range []nostr.SecretKey{createdKey, imported} {
		secrets = append(secrets, []byte(k.Nsec()), []byte(k.Hex()), []byte(strings.ToUpper(k.Hex())), k[:])
	}
	files := 0
	for _, dir := range []string{data, config} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			files++
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, s := range secrets {
				if bytes.Contains(b, s) {
					t.Errorf("%s holds a secret key", p)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files == 0 {
		t.Fatal("no file to check: the identity list should be in the config folder")
	}
	st.Remove(created.Npub())
	st.Remove(imported.PublicKey().Npub())
}

// TestKeyringUnavailable runs the store in a child process (go-keyring keeps one D-Bus
// connection per process) against a bus with no Secret Service, and against a keyring that is
// locked, and expects a clear error, nothing written in the config folder, and no fallback.
func TestKeyringUnavailable(t *testing.T) {
	root, err := os.MkdirTemp("", "kr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)

	// A bus without any Secret Service.
	emptyDir := filepath.Join(root, "e")
	os.MkdirAll(emptyDir, 0o700)
	empty, err := testenv.StartBus(emptyDir)
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Stop()

	// A keyring that exists but is locked: created unlocked once, then served locked.
	lockedDir := filepath.Join(root, "l")
	run, data := filepath.Join(lockedDir, "run"), filepath.Join(lockedDir, "data")
	for _, d := range []string{run, data} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	bus, err := testenv.StartBus(lockedDir)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Stop()
	kr, err := testenv.StartKeyring(bus, data, run, true)
	if err != nil {
		t.Fatal(err)
	}
	kr.Stop()
	if kr, err = testenv.StartKeyring(bus, data, run, false); err != nil {
		t.Fatal(err)
	}
	defer kr.Stop()

	tests := []struct {
		name, bus string
		want      string // the kind TestChild reports
		advice    string // part of what the message tells the player to do
	}{
		{"missing", empty.Address, "unavailable", "start a Secret Service"},
		{"locked", bus.Address, "locked", "unlock your login keyring"},
		{"no bus", "unix:path=" + filepath.Join(root, "nothing-here"), "unavailable", "start a Secret Service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
			cmd.Env = append(os.Environ(), "SIGNER_TEST_CHILD=1", "SIGNER_TEST_CONFIG="+config,
				"DBUS_SESSION_BUS_ADDRESS="+tt.bus, "XDG_RUNTIME_DIR="+run)
			out, _ := cmd.CombinedOutput()
			for _, op := range []string{"create", "import", "get"} {
				if !bytes.Contains(out, []byte(op+": "+tt.want+": ")) {
					t.Errorf("%s: the child did not report the keyring %s:\n%s", op, tt.want, out)
				}
			}
			if !bytes.Contains(out, []byte(tt.advice)) {
				t.Errorf("the message does not say %q:\n%s", tt.advice, out)
			}
			if _, err := os.Stat(filepath.Join(config, "identities.json")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("an identity was recorded although its key could not be stored (%v)", err)
			}
		})
	}
}

// TestChild is run by TestKeyringUnavailable in a child process; it prints each operation's
// error, classified.
func TestChild(t *testing.T) {
	config := os.Getenv("SIGNER_TEST_CONFIG")
	if os.Getenv("SIGNER_TEST_CHILD") == "" || config == "" {
		return
	}
	st := signer.NewStore(config, signer.OSKeyring{Timeout: 10 * time.Second})
	report := func(op string, err error) {
		switch {
		case errors.Is(err, signer.ErrKeyringLocked):
			fmt.Printf("%s: locked: %v\n", op, err)
		case errors.Is(err, signer.ErrKeyringUnavailable):
			fmt.Printf("%s: unavailable: %v\n", op, err)
		default:
			fmt.Printf("%s: unexpected result: %v\n", op, err)
		}
	}
	_, err := st.Create("x")
	report("create", err)
	key, _ := nostr.GenerateKey()
	_, err = st.Import(key.Nsec(), "")
	report("import", err)
	_, err = signer.OSKeyring{Timeout: 10 * time.Second}.Get(signer.Service, key.PublicKey().Hex())
	report("get", err)
}
