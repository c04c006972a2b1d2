package core

import (
	"sync"

	"satchel.dev/desktop/install"
	"satchel.dev/desktop/library"
)

// EventKind says what happened.
type EventKind string

// The kinds of events.
const (
	EventLibrary       EventKind = "library"        // a game of the library changed (Slug)
	EventSync          EventKind = "sync"           // the connection to the server changed (Sync)
	EventProgress      EventKind = "progress"       // an install progressed (Progress)
	EventInstalled     EventKind = "installed"      // an install finished (Slug, Version)
	EventInstallFailed EventKind = "install-failed" // an install failed (Slug, Message)
	EventLaunched      EventKind = "launched"       // a game started (Slug, Version, PID)
	EventExited        EventKind = "exited"         // a game ended (Slug, Version, ExitCode, Message)
	EventRolledBack    EventKind = "rolled-back"    // a new version failed to launch; the previous one is back (Slug, Version: the one back, Message: why)
)

// Event is something that happened in the Core, for a window to show.
type Event struct {
	Kind     EventKind           `json:"kind"`
	Slug     string              `json:"slug,omitempty"`
	Version  string              `json:"version,omitempty"`
	Progress *install.Progress   `json:"progress,omitempty"`
	Sync     *library.SyncStatus `json:"sync,omitempty"`
	PID      int                 `json:"pid,omitempty"`
	ExitCode int                 `json:"exit_code,omitempty"`
	Message  string              `json:"message,omitempty"`
	// Tail is the last lines of the launch log of an exited event whose game failed within
	// seconds (see QuickFailure).
	Tail []string `json:"tail,omitempty"`
	// Problem classifies an install-failed event's error (see Problem) so a window can
	// offer the action that fits.
	Problem string `json:"problem,omitempty"`
}

type broadcaster struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func newBroadcaster() *broadcaster { return &broadcaster{subs: map[chan Event]struct{}{}} }

func (b *broadcaster) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, ch)
			b.mu.Unlock()
			close(ch)
		})
	}
}

func (b *broadcaster) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default: // a slow subscriber misses this one
		}
	}
}
