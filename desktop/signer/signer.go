// Package signer is the launcher's Embedded Signer: the player's Nostr identities, whose secret
// keys live only in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential
// Manager on Windows) through github.com/zalando/go-keyring, one entry per identity under the
// service "satchel".
//
// A secret key is never written to a file, never logged and never put in an error message: the
// config folder holds only identities.json, the list of public keys and which one is active.
// When the keyring is missing, locked or does not answer, every call fails with an error
// wrapping ErrKeyringUnavailable or ErrKeyringLocked that says what to do; there is no
// fallback to a file.
package signer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zalando/go-keyring"

	"satchel.dev/desktop/internal/fsutil"
	"satchel.dev/shared/nostr"
)

// Service is the keyring service name under which every identity is stored.
const Service = "satchel"

// Errors, wrapped with what to do.
var (
	// ErrKeyringUnavailable: no keyring answers (no Secret Service on the session bus, no bus).
	ErrKeyringUnavailable = errors.New("the OS keyring is not available")
	// ErrKeyringLocked: the keyring is locked and was not unlocked.
	ErrKeyringLocked = errors.New("the OS keyring is locked")
	// ErrNoIdentity: there is no identity (or not the one asked for).
	ErrNoIdentity = errors.New("no identity")
	// ErrKeyMissing: the identity is listed but its secret key is not in the keyring.
	ErrKeyMissing = errors.New("the identity's secret key is not in the keyring")
)

// Keyring stores secrets by service and user. OSKeyring is the real one; tests of other
// packages may pass their own.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// ErrSecretNotFound is what a Keyring returns (or wraps) for an entry that does not exist.
var ErrSecretNotFound = keyring.ErrNotFound

// OSKeyring is the operating system's keyring through go-keyring. Each call gives up after
// Timeout (default 20s): a keyring waiting on an unlock prompt nobody answers is reported as
// locked instead of hanging the launcher.
type OSKeyring struct {
	Timeout time.Duration
}

// Get implements Keyring.
func (k OSKeyring) Get(service, user string) (string, error) {
	var v string
	err := k.do(func() (err error) { v, err = keyring.Get(service, user); return })
	return v, err
}

// Set implements Keyring.
func (k OSKeyring) Set(service, user, secret string) error {
	return k.do(func() error { return keyring.Set(service, user, secret) })
}

// Delete implements Keyring.
func (k OSKeyring) Delete(service, user string) error {
	return k.do(func() error { return keyring.Delete(service, user) })
}

func (k OSKeyring) do(op func() error) error {
	timeout := k.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case err := <-done:
		return classify(err)
	case <-time.After(timeout):
		return fmt.Errorf("%w: it did not answer in %s (is it waiting for a password?): unlock it and try again", ErrKeyringLocked, timeout)
	}
}

// classify turns go-keyring's errors into ErrKeyringUnavailable / ErrKeyringLocked with a
// message that says what to do. The detail it quotes comes from D-Bus and never holds a secret.
func classify(err error) error {
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "failed to unlock"), strings.Contains(msg, "prompt"), strings.Contains(msg, "IsLocked"):
		return fmt.Errorf("%w (%s): unlock your login keyring (for example by logging in to the desktop, or with gnome-keyring-daemon --unlock) and try again", ErrKeyringLocked, msg)
	default:
		return fmt.Errorf("%w (%s): Satchel keeps secret keys only in the OS keyring, never in a file; start a Secret Service (gnome-keyring or KWallet) in your desktop session and try again (in CI, pass the key to the satchel CLI in SATCHEL_NSEC)", ErrKeyringUnavailable, msg)
	}
}

// Identity is a player's identity as the launcher lists it: public parts only.
type Identity struct {
	PublicKey nostr.PublicKey `json:"pubkey"`
	Label     string          `json:"label,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

// Npub is the identity's public key in NIP-19 form.
func (id Identity) Npub() string { return id.PublicKey.Npub() }

// index is identities.json: public keys only.
type index struct {
	Active     string     `json:"active,omitempty"` // hex public key
	Identities []Identity `json:"identities"`
}

// Store manages identities: the list in the config folder, the secrets in a Keyring.
type Store struct {
	kr   Keyring
	path string
	now  func() time.Time
}

// NewStore returns the identity store of the config folder configDir, keeping secrets in kr.
func NewStore(configDir string, kr Keyring) *Store {
	return &Store{kr: kr, path: filepath.Join(configDir, "identities.json"), now: time.Now}
}

func (s *Store) load() (index, error) {
	var ix index
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return ix, err
	}
	if err := json.Unmarshal(b, &ix); err != nil {
		return ix, fmt.Errorf("%s is damaged (%v): fix it, or move it away and import your keys again", s.path, err)
	}
	return ix, nil
}

func (s *Store) save(ix index) error {
	b, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	return fsutil.WriteFile(s.path, append(b, '\n'), 0o600)
}

// Create makes a new random identity, stores its secret key in the keyring and makes it the
// active identity.
func (s *Store) Create(label string) (Identity, error) {
	key, err := nostr.GenerateKey()
	if err != nil {
		return Identity{}, err
	}
	return s.add(key, label)
}

// Import stores an existing secret key, given as nsec1... or 64 hex characters, and makes it
// the active identity. Importing a key already listed only makes it active (and updates the
// label if one is given). Errors never quote the key.
func (s *Store) Import(secret, label string) (Identity, error) {
	key, err := nostr.ParseSecretKey(strings.TrimSpace(secret))
	if err != nil {
		return Identity{}, err
	}
	return s.add(key, label)
}

func (s *Store) add(key nostr.SecretKey, label string) (Identity, error) {
	ix, err := s.load()
	if err != nil {
		return Identity{}, err
	}
	id := Identity{PublicKey: key.PublicKey(), Label: label, CreatedAt: s.now().UTC().Truncate(time.Second)}
	// The keyring first: the list never names a key the keyring does not hold.
	if err := s.kr.Set(Service, id.PublicKey.Hex(), key.Nsec()); err != nil {
		return Identity{}, fmt.Errorf("storing the secret key: %w", err)
	}
	if i := s.find(ix, id.PublicKey); i >= 0 {
		if label != "" {
			ix.Identities[i].Label = label
		}
		id = ix.Identities[i]
	} else {
		ix.Identities = append(ix.Identities, id)
	}
	ix.Active = id.PublicKey.Hex()
	return id, s.save(ix)
}

func (s *Store) find(ix index, pk nostr.PublicKey) int {
	return slices.IndexFunc(ix.Identities, func(id Identity) bool { return id.PublicKey == pk })
}

// List returns the identities and the active one's public key (zero if none).
func (s *Store) List() ([]Identity, nostr.PublicKey, error) {
	ix, err := s.load()
	if err != nil {
		return nil, nostr.PublicKey{}, err
	}
	var active nostr.PublicKey
	if ix.Active != "" {
		active, _ = nostr.ParsePublicKey(ix.Active)
	}
	return ix.Identities, active, nil
}

// Resolve returns the identity named by ref (npub, hex public key or label), or the active
// one when ref is "". It does not touch the keyring.
func (s *Store) Resolve(ref string) (Identity, error) {
	ix, err := s.load()
	if err != nil {
		return Identity{}, err
	}
	if ref == "" {
		ref = ix.Active
		if ref == "" {
			return Identity{}, fmt.Errorf("%w yet: create one with `satchel identity new` or import yours with `satchel identity import`", ErrNoIdentity)
		}
	}
	if pk, err := nostr.ParsePublicKey(ref); err == nil {
		if i := s.find(ix, pk); i >= 0 {
			return ix.Identities[i], nil
		}
	}
	for _, id := range ix.Identities {
		if id.Label != "" && id.Label == ref {
			return id, nil
		}
	}
	return Identity{}, fmt.Errorf("%w named %q: `satchel identity list` shows yours", ErrNoIdentity, ref)
}

// Use makes the identity named by ref the active one.
func (s *Store) Use(ref string) (Identity, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return Identity{}, err
	}
	ix, err := s.load()
	if err != nil {
		return Identity{}, err
	}
	ix.Active = id.PublicKey.Hex()
	return id, s.save(ix)
}

// SetLabel names the identity named by ref with label ("" removes its label). It does not
// touch the keyring.
func (s *Store) SetLabel(ref, label string) (Identity, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return Identity{}, err
	}
	ix, err := s.load()
	if err != nil {
		return Identity{}, err
	}
	i := s.find(ix, id.PublicKey)
	ix.Identities[i].Label = label
	return ix.Identities[i], s.save(ix)
}

// Signer returns a signer for the identity named by ref ("" for the active one), reading its
// secret key from the keyring once.
func (s *Store) Signer(ref string) (*Signer, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return nil, err
	}
	key, err := s.secret(id)
	if err != nil {
		return nil, err
	}
	return &Signer{key: &key}, nil
}

func (s *Store) secret(id Identity) (nostr.SecretKey, error) {
	v, err := s.kr.Get(Service, id.PublicKey.Hex())
	if errors.Is(err, keyring.ErrNotFound) {
		return nostr.SecretKey{}, fmt.Errorf("%w (%s): import it again with `satchel identity import`, or remove it with `satchel identity remove`", ErrKeyMissing, id.Npub())
	}
	if err != nil {
		return nostr.SecretKey{}, err
	}
	key, err := nostr.ParseSecretKey(v)
	if err != nil {
		return nostr.SecretKey{}, fmt.Errorf("the keyring entry of %s is damaged: %w", id.Npub(), err)
	}
	if key.PublicKey() != id.PublicKey {
		return nostr.SecretKey{}, fmt.Errorf("the keyring entry of %s holds another key: import the right one again", id.Npub())
	}
	return key, nil
}

// Export returns the identity's secret key as nsec1...: call it only on the player's explicit
// request, and show the result only to them.
func (s *Store) Export(ref string) (string, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return "", err
	}
	key, err := s.secret(id)
	if err != nil {
		return "", err
	}
	return key.Nsec(), nil
}

// Remove deletes the identity's secret key from the keyring and the identity from the list.
// If it was the active one, no identity is active afterwards.
func (s *Store) Remove(ref string) (Identity, error) {
	id, err := s.Resolve(ref)
	if err != nil {
		return Identity{}, err
	}
	if err := s.kr.Delete(Service, id.PublicKey.Hex()); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return Identity{}, fmt.Errorf("removing the secret key: %w", err)
	}
	ix, err := s.load()
	if err != nil {
		return Identity{}, err
	}
	if i := s.find(ix, id.PublicKey); i >= 0 {
		ix.Identities = slices.Delete(ix.Identities, i, i+1)
	}
	if ix.Active == id.PublicKey.Hex() {
		ix.Active = ""
	}
	return id, s.save(ix)
}

// Signer signs events with one identity's key, held in memory (behind a pointer, so printing
// a Signer never shows it). It implements nostr.Signer.
type Signer struct {
	key *nostr.SecretKey
}

// NewSigner returns a signer for a secret key given as nsec1... or 64 hex characters, such as
// the SATCHEL_NSEC variable the CLI accepts in CI.
func NewSigner(secret string) (*Signer, error) {
	key, err := nostr.ParseSecretKey(strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	return &Signer{key: &key}, nil
}

// PublicKey implements nostr.Signer.
func (s *Signer) PublicKey() nostr.PublicKey { return s.key.PublicKey() }

// SignEvent implements nostr.Signer.
func (s *Signer) SignEvent(e *nostr.Event) error { return s.key.SignEvent(e) }

// String never shows the key.
func (s *Signer) String() string { return "signer.Signer(" + s.PublicKey().Npub() + ")" }
