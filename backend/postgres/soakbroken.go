//go:build soakbroken

package postgres

// brokenSettlement makes a deliberately broken build (go build -tags soakbroken), which only
// the soak's own test runs (backend/cmd/satchel-soak): a settlement commits the sale without
// its ledger entries, as a settlement split over two transactions does when the process dies
// between them. The soak must catch it.
const brokenSettlement = true
