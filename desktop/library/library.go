// Package library keeps the launcher's view of what the player owns in step with the server,
// and says for each game what the player sees: installed, update available, installing...
//
// A Syncer fetches the library (ListLibrary) and then listens on the server's library stream
// (WatchLibrary). When the stream drops it reconnects with backoff, passing the last resume
// token it saw, so the server first replays every change it missed: nothing is lost across
// a reconnect. Every change is written to the local state (package state) before the
// Syncer's OnChange callback hears of it, which is where the launcher decides to auto-update.
//
// View needs no server: it builds the library from the local state alone, so the launcher
// shows what is installed (and launches it) when the server is unreachable.
//
// The library is an identity's: the state records which identities own each game (a Syncer
// works for the identity its API signs with), and View and Find show one identity the games
// it owns, the games bought as a guest on this launcher, and installed games that no identity
// owns any more. Installed files are shared on disk; a game another identity owns is not in
// this one's library, even when it is installed. Without an identity (owner "") the player
// owns only what was bought as a guest on this launcher and not yet claimed: that is the whole
// library. AnyIdentity is for faces that read no identity at all.
package library

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"connectrpc.com/connect"

	libraryv1 "satchel.dev/shared/api/satchel/library/v1"

	"satchel.dev/desktop/client"
	"satchel.dev/desktop/settings"
	"satchel.dev/desktop/state"
)

// API is the part of the server's LibraryService the Syncer uses
// (libraryv1connect.LibraryServiceClient has it).
type API interface {
	ListLibrary(context.Context, *libraryv1.ListLibraryRequest) (*libraryv1.ListLibraryResponse, error)
	WatchLibrary(context.Context, *libraryv1.WatchLibraryRequest) (*connect.ServerStreamForClient[libraryv1.WatchLibraryResponse], error)
}

// Status is what the player sees for a game.
type Status string

// The statuses of a game.
const (
	StatusNotInstalled    Status = "not installed"
	StatusInstalled       Status = "installed"
	StatusUpdateAvailable Status = "update available"
	StatusInstalling      Status = "installing"
	StatusNoRelease       Status = "no release yet"
)

// Entry is one game of the library as the player sees it.
type Entry struct {
	Slug   string `json:"slug"`
	GameID string `json:"game_id"`
	Title  string `json:"title,omitempty"`
	// Owned is true when the identity owns the game; false for a game bought as a guest
	// (Guest), or still installed after it left the player's library (refunded, revoked).
	Owned bool `json:"owned"`
	// Guest is true for a game bought as a guest on this launcher, its receipt not claimed.
	Guest  bool   `json:"guest,omitempty"`
	Status Status `json:"status"`
	// Installed is the current version, Previous the one kept until it has launched once.
	Installed string `json:"installed,omitempty"`
	Previous  string `json:"previous,omitempty"`
	// Latest is the newest published release the server reported.
	Latest string `json:"latest,omitempty"`
	// Dir is the install folder of the current version.
	Dir string `json:"dir,omitempty"`
	// Installing is the version being installed, and how far it got.
	Installing string     `json:"installing,omitempty"`
	Step       state.Step `json:"step,omitempty"`
	// Failed is the last release that failed to install or launch.
	Failed     *state.Failure `json:"failed,omitempty"`
	AutoUpdate bool           `json:"auto_update"`
	LastRun    *state.Run     `json:"last_run,omitempty"`
}

// AnyIdentity is the owner of a face that reads no identity (the CLI's offline commands and
// launch): its library is every identity's games, owned by any, and every installed game. It
// is never an identity: it owns nothing on the server and auto-updates nothing.
const AnyIdentity = "*"

// View returns the library of owner from the local state, by slug. For an identity (hex
// public key): every game it owns, every installed game bought as a guest, and every installed
// game no identity owns. For no identity (""): the installed games bought as a guest on this
// launcher, nothing another identity owns or once owned. For AnyIdentity: every game.
func View(st *state.State, set settings.Settings, owner string) []Entry {
	out := []Entry{}
	for _, slug := range st.Slugs() {
		if g := st.Games[slug]; Visible(g, owner) {
			out = append(out, entry(st, g, set, owner))
		}
	}
	return out
}

// Visible reports whether g is in the library of owner (see View).
func Visible(g *state.Game, owner string) bool {
	installed := g.Current != nil || g.Pending != nil
	switch owner {
	case AnyIdentity:
		return g.Owned || installed
	case "":
		return installed && g.Guest
	}
	return g.OwnedBy(owner) || (installed && (g.Guest || !g.Owned))
}

// owned reports whether g is owned for the library of owner (see View).
func owned(g *state.Game, owner string) bool {
	if owner == AnyIdentity {
		return g.Owned
	}
	return g.OwnedBy(owner)
}

// Find returns the entry of slug from the local state, when it is in owner's library.
func Find(st *state.State, set settings.Settings, slug, owner string) (Entry, bool) {
	g := st.Games[slug]
	if g == nil || !Visible(g, owner) {
		return Entry{}, false
	}
	return entry(st, g, set, owner), true
}

func entry(st *state.State, g *state.Game, set settings.Settings, owner string) Entry {
	e := Entry{Slug: g.Slug, GameID: g.GameID, Title: g.Title, Owned: owned(g, owner), Guest: g.Guest, Failed: g.Failed,
		AutoUpdate: set.AutoUpdateFor(g.Slug), LastRun: g.LastRun}
	if g.Latest != nil {
		e.Latest = g.Latest.Version
	}
	if g.Current != nil {
		e.Installed, e.Dir = g.Current.Version, st.Path(g.Slug, g.Current.Dir)
	}
	if g.Previous != nil {
		e.Previous = g.Previous.Version
	}
	if g.Pending != nil {
		e.Installing, e.Step = g.Pending.Version, g.Pending.Step
	}
	switch {
	case g.Pending != nil:
		e.Status = StatusInstalling
	case g.Current == nil && g.Latest == nil:
		e.Status = StatusNoRelease
	case g.Current == nil:
		e.Status = StatusNotInstalled
	case e.Owned && g.Latest != nil && g.Latest.ReleaseID != g.Current.ReleaseID:
		e.Status = StatusUpdateAvailable
	default:
		e.Status = StatusInstalled
	}
	return e
}

// NeedsUpdate reports whether auto-update should update the game for owner: installed (or its
// install under way), owned by owner, with a latest release that is not current and not the
// release that last failed. A game that is not installed (never, or no more: the player
// uninstalled it) is left alone.
func NeedsUpdate(g *state.Game, owner string) bool {
	return g != nil && (g.Current != nil || g.Pending != nil) && NeedsInstall(g, owner)
}

// NeedsInstall reports whether owner owns the game and its latest release is neither installed
// nor the release that last failed: what a new purchase installs.
func NeedsInstall(g *state.Game, owner string) bool {
	if g == nil || !g.OwnedBy(owner) || g.Latest == nil {
		return false
	}
	if g.Current != nil && g.Current.ReleaseID == g.Latest.ReleaseID {
		return false
	}
	if g.Failed != nil && g.Failed.ReleaseID == g.Latest.ReleaseID {
		return false
	}
	return true
}

// SyncConfig configures a Syncer.
type SyncConfig struct {
	API   API          // required
	State *state.Store // required
	// Owner is the identity (hex public key) API signs with: the library is its.
	Owner string
	// OnChange is called after changes to the games of slugs were saved: after every Refresh
	// with every known game, and after each streamed change with its game. A game Owner did
	// not own before (a purchase, a claimed receipt) is saved with GrantedTo Owner.
	OnChange func(slugs []string)
	// OnStatus is called when the connection status changes.
	OnStatus func(SyncStatus)
	// MinBackoff and MaxBackoff bound the wait before a reconnect; default 500ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
}

// SyncStatus is the state of the connection to the server's library.
type SyncStatus struct {
	// Connected is true while the library stream is open.
	Connected bool      `json:"connected"`
	LastSync  time.Time `json:"last_sync,omitzero"`
	// LastError is why the last attempt failed, explained for the player.
	LastError string `json:"last_error,omitempty"`
	// Reconnects counts the reconnections since Run started.
	Reconnects int `json:"reconnects"`
}

// Syncer keeps the local state's library in step with the server.
type Syncer struct {
	cfg SyncConfig
	mu  sync.Mutex
	st  SyncStatus
}

// NewSyncer returns a Syncer; Run starts it.
func NewSyncer(cfg SyncConfig) *Syncer {
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func([]string) {}
	}
	if cfg.OnStatus == nil {
		cfg.OnStatus = func(SyncStatus) {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Syncer{cfg: cfg}
}

// Status returns the connection status.
func (s *Syncer) Status() SyncStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *Syncer) setStatus(f func(*SyncStatus)) {
	s.mu.Lock()
	f(&s.st)
	st := s.st
	s.mu.Unlock()
	s.cfg.OnStatus(st)
}

// Refresh fetches Owner's library from the server and saves it in the local state: the games
// it owns with their latest release; games it no longer owns lose it as an owner. It returns
// the token that resumes the stream right after this list.
func (s *Syncer) Refresh(ctx context.Context) (string, error) {
	res, err := s.cfg.API.ListLibrary(ctx, &libraryv1.ListLibraryRequest{})
	if err != nil {
		s.setStatus(func(st *SyncStatus) { st.LastError = err.Error() })
		return "", err
	}
	var slugs []string
	_, err = s.cfg.State.Update(func(st *state.State) error {
		listed := map[string]bool{}
		for _, lg := range res.GetGames() {
			listed[lg.GetSlug()] = true
			s.apply(st, lg)
		}
		for slug := range st.Games {
			if !listed[slug] {
				s.disown(st, slug)
			}
		}
		slugs = st.Slugs()
		return nil
	})
	if err != nil {
		return "", err
	}
	s.setStatus(func(st *SyncStatus) { st.LastSync, st.LastError = time.Now(), "" })
	s.cfg.OnChange(slugs)
	return res.GetResumeToken(), nil
}

// apply saves what the server says about a game Owner owns; a game Owner did not own before,
// and that is neither installed nor being installed, is granted to Owner.
func (s *Syncer) apply(st *state.State, lg *libraryv1.LibraryGame) {
	g := st.Game(lg.GetSlug())
	g.GameID = lg.GetGameId()
	if lg.GetTitle() != "" {
		g.Title = lg.GetTitle()
	}
	// A game owned before owners were recorded (Owned, no Owners) is adopted, not granted:
	// it is no purchase, and auto-update must not install what the player uninstalled.
	if !g.OwnedBy(s.cfg.Owner) && !(g.Owned && len(g.Owners) == 0) && g.Current == nil && g.Pending == nil {
		g.GrantedTo = s.cfg.Owner
	}
	if !g.OwnedBy(s.cfg.Owner) && s.cfg.Owner != "" {
		g.Owners = append(g.Owners, s.cfg.Owner)
	}
	g.Owned = len(g.Owners) > 0
	if r := lg.GetLatestRelease(); r != nil {
		g.Latest = &state.Release{ReleaseID: r.GetReleaseId(), Version: r.GetVersion(), SHA256: r.GetSha256(), Size: r.GetSizeBytes()}
	}
}

// disown removes Owner from the owners of a game, forgetting the game when nobody owns it and
// nothing of it is installed.
func (s *Syncer) disown(st *state.State, slug string) {
	g := st.Games[slug]
	if g == nil {
		return
	}
	g.Owners = slices.DeleteFunc(g.Owners, func(o string) bool { return o == s.cfg.Owner })
	g.Owned = len(g.Owners) > 0
	if !g.Owned && !g.Guest && g.Current == nil && g.Pending == nil && g.Previous == nil {
		delete(st.Games, slug)
	}
}

// Run refreshes the library, then follows the server's stream of changes until ctx ends,
// reconnecting with backoff and catching up from the last resume token when the stream drops.
// It returns ctx's error.
func (s *Syncer) Run(ctx context.Context) error {
	token := ""
	wait := s.cfg.MinBackoff
	for first := true; ; first = false {
		if !first {
			jittered := wait/2 + rand.N(wait/2+1)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(jittered):
			}
			wait = min(wait*2, s.cfg.MaxBackoff)
			s.setStatus(func(st *SyncStatus) { st.Reconnects++ })
		}
		if token == "" {
			var err error
			if token, err = s.Refresh(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.cfg.Logger.Info("library refresh failed", "err", err)
				continue
			}
			wait = s.cfg.MinBackoff
		}
		received, err := s.watch(ctx, &token)
		if ctx.Err() != nil {
			s.setStatus(func(st *SyncStatus) { st.Connected = false })
			return ctx.Err()
		}
		if received {
			wait = s.cfg.MinBackoff
		}
		if errors.Is(err, client.ErrInvalid) {
			token = "" // the server does not know the token: list again
		}
		s.setStatus(func(st *SyncStatus) {
			st.Connected = false
			if err != nil {
				st.LastError = err.Error()
			}
		})
		s.cfg.Logger.Info("library stream ended, reconnecting", "err", err)
	}
}

// watch follows the stream from *token, saving each change and advancing *token. It reports
// whether any change arrived.
func (s *Syncer) watch(ctx context.Context, token *string) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := s.cfg.API.WatchLibrary(ctx, &libraryv1.WatchLibraryRequest{ResumeToken: *token})
	if err != nil {
		return false, err
	}
	defer stream.Close()
	s.setStatus(func(st *SyncStatus) { st.Connected = true })
	received := false
	for stream.Receive() {
		c := stream.Msg().GetChange()
		if c == nil {
			continue
		}
		slug := c.GetGame().GetSlug()
		_, err := s.cfg.State.Update(func(st *state.State) error {
			switch c.GetKind() {
			case libraryv1.LibraryChange_KIND_ENTITLEMENT_GRANTED, libraryv1.LibraryChange_KIND_RELEASE_PUBLISHED:
				s.apply(st, c.GetGame())
			case libraryv1.LibraryChange_KIND_ENTITLEMENT_REVOKED:
				s.disown(st, slug)
			}
			return nil
		})
		if err != nil {
			return received, err
		}
		*token, received = c.GetResumeToken(), true
		s.setStatus(func(st *SyncStatus) { st.LastSync, st.LastError = time.Now(), "" })
		s.cfg.OnChange([]string{slug})
	}
	err = stream.Err()
	if err == nil {
		err = errors.New("the server closed the library stream")
	}
	return received, err
}
