package core

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"satchel.dev/desktop/internal/fsutil"
)

// requests keeps the request id and client secret of every purchase this launcher opened that
// may still be paid, by buyer and game, in <data>/purchases.json (private to the user, under a
// file lock: the launcher's processes share it). Buying the same game again as the same buyer
// sends them again, and the server answers with the purchase already open (its invoice, and a
// guest's receipt code) rather than a second invoice: closing the checkout, a dropped line or a
// restart never makes a player pay twice. An entry goes once its purchase is final or its
// invoice has expired.
type requests struct{ dir string }

// request is what CreatePurchase is sent for one buyer and game.
type request struct {
	RequestID    string    `json:"request_id"`
	ClientSecret string    `json:"client_secret"`
	PurchaseID   string    `json:"purchase_id,omitempty"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
}

// guestBuyer is the buyer of guest purchases: whoever uses this launcher without signing.
const guestBuyer = "guest"

func (r requests) path() string { return filepath.Join(r.dir, "purchases.json") }

// update applies fn to the entries, keyed by buyer and game id, and saves them.
func (r requests) update(fn func(map[string]request)) error {
	l, err := fsutil.WaitLock(filepath.Join(r.dir, "purchases.lock"))
	if err != nil {
		return err
	}
	defer l.Unlock()
	m := map[string]request{}
	b, err := os.ReadFile(r.path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &m); err != nil {
			// Only open purchases' request ids are lost: the server still closes them.
			m = map[string]request{}
		}
	}
	fn(m)
	if b, err = json.MarshalIndent(m, "", "  "); err != nil {
		return err
	}
	if err := fsutil.WriteFile(r.path(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the open purchases: %w", err)
	}
	return nil
}

// next returns the request for buyer's purchase of gameID: the open purchase's (until its
// invoice expires at now), or a new one that is saved before it is sent.
func (r requests) next(buyer, gameID string, now time.Time) (request, error) {
	var req request
	err := r.update(func(m map[string]request) {
		key := buyer + " " + gameID
		req = m[key]
		if req.RequestID != "" && (req.ExpiresAt.IsZero() || now.Before(req.ExpiresAt)) {
			return
		}
		var id, secret [16]byte
		rand.Read(id[:])
		rand.Read(secret[:])
		req = request{RequestID: hex.EncodeToString(id[:]), ClientSecret: hex.EncodeToString(secret[:])}
		m[key] = req
	})
	return req, err
}

// opened records the purchase the request of buyer opened: kept while it can be paid,
// forgotten once it is final.
func (r requests) opened(buyer string, p Purchase) error {
	return r.update(func(m map[string]request) {
		key := buyer + " " + p.GameID
		if p.Final() {
			delete(m, key)
			return
		}
		req := m[key]
		req.PurchaseID, req.ExpiresAt = p.ID, p.ExpiresAt
		m[key] = req
	})
}

// closed forgets the request of a purchase that is final.
func (r requests) closed(purchaseID string) error {
	return r.update(func(m map[string]request) {
		for k, req := range m {
			if req.PurchaseID == purchaseID {
				delete(m, k)
			}
		}
	})
}
