package purchases

import (
	"context"
	"strconv"

	"satchel.dev/backend/market"
)

// Library returns the caller's owned games and the token that resumes a watch after them.
func (s *Service) Library(ctx context.Context, a market.Actor) ([]market.LibraryGame, string, error) {
	if err := market.RequireUser(a); err != nil {
		return nil, "", err
	}
	games, last, err := s.library.Library(ctx, a.UserID)
	return games, strconv.FormatInt(last, 10), err
}

// WatchLibrary calls send with every change to the caller's library after the resume token
// (empty: from now), first those already made, then live ones, until ctx ends.
func (s *Service) WatchLibrary(ctx context.Context, a market.Actor, token string, send func(market.LibraryChange) error) error {
	if err := market.RequireUser(a); err != nil {
		return err
	}
	notes, stop := s.notifier.LibraryChanges()
	defer stop()
	var after int64
	if token == "" {
		_, last, err := s.library.Library(ctx, a.UserID)
		if err != nil {
			return err
		}
		after = last
	} else {
		var err error
		if after, err = strconv.ParseInt(token, 10, 64); err != nil || after < 0 {
			return market.Errorf(market.CodeInvalid, "resume_token is not one this server gave: start again without it")
		}
	}
	for {
		changes, err := s.library.Changes(ctx, a.UserID, after, 100)
		if err != nil {
			return err
		}
		for _, c := range changes {
			if err := send(c); err != nil {
				return err
			}
			after = c.ID
		}
		if len(changes) == 100 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-notes:
		}
	}
}
