package payouts

import (
	"context"

	"satchel.dev/backend/market"
)

// AddressCheck sets developers' payout addresses, each resolved live first: an address is
// taken only if it answers with a LUD-06 pay request (LUD-16) whose sendable range takes the
// developer's share of every paid game they have, or, before they have one, of the server's
// lowest paid price. It implements what the developer API's SetPayoutAddress promises.
type AddressCheck struct {
	users        market.UserService
	games        market.GameService
	resolver     *Resolver
	feeBps       int
	minPriceMsat int64
}

// NewAddressCheck returns the check that resolves addresses with resolver (the payout
// worker's: Worker.Resolver) and stores them in users; feeBps and minPriceMsat are the
// server's fee and lowest paid price.
func NewAddressCheck(users market.UserService, games market.GameService, resolver *Resolver, feeBps int, minPriceMsat int64) *AddressCheck {
	return &AddressCheck{users: users, games: games, resolver: resolver, feeBps: feeBps, minPriceMsat: minPriceMsat}
}

// SetPayoutAddress makes the caller a developer, or changes their Lightning Address, once the
// address resolves and accepts their shares. An address that does not is refused
// (CodeInvalid) with the reason, and nothing changes.
func (c *AddressCheck) SetPayoutAddress(ctx context.Context, a market.Actor, lnAddress string) (market.DeveloperProfile, error) {
	if err := market.RequireUser(a); err != nil {
		return market.DeveloperProfile{}, err
	}
	addr, err := market.NormalizeLNAddress(lnAddress)
	if err != nil {
		return market.DeveloperProfile{}, err
	}
	lo, hi, err := c.shares(ctx, a)
	if err != nil {
		return market.DeveloperProfile{}, err
	}
	pr, err := c.resolver.ResolveAddress(ctx, addr)
	if err != nil {
		return market.DeveloperProfile{}, market.Errorf(market.CodeInvalid, "%v; payouts could not be paid there: check the address with your wallet provider", err)
	}
	if pr.MinSendable > lo || pr.MaxSendable < hi {
		return market.DeveloperProfile{}, market.Errorf(market.CodeInvalid,
			"Lightning Address %s accepts %s to %s sats, but your share of a sale is %s to %s sats: use an address or wallet that accepts these amounts",
			addr, market.FormatSats(pr.MinSendable), market.FormatSats(pr.MaxSendable), market.FormatSats(lo), market.FormatSats(hi))
	}
	return c.users.SetPayoutAddress(ctx, a, addr)
}

// shares returns the smallest and largest payout a sale of the caller's paid games makes, or
// the payout of the lowest paid price when they have no paid game.
func (c *AddressCheck) shares(ctx context.Context, a market.Actor) (lo, hi int64, err error) {
	games, err := c.games.ListMyGames(ctx, a)
	if err != nil {
		return 0, 0, err
	}
	for _, g := range games {
		if g.Game.PriceMsat == 0 {
			continue
		}
		_, net := market.Split(g.Game.PriceMsat, c.feeBps)
		if lo == 0 || net < lo {
			lo = net
		}
		hi = max(hi, net)
	}
	if lo == 0 {
		_, lo = market.Split(max(c.minPriceMsat, 1000), c.feeBps)
		hi = lo
	}
	return lo, hi, nil
}
