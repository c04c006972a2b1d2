package payouts

// SetHook makes w call hook at named points of an attempt, for the tests that kill a worker
// there: "fetched" (an invoice was received and verified, not stored yet), "stored" (stored,
// not paid yet), "paying" (just before the provider is asked to pay), "paid" (the payment
// succeeded, not recorded yet).
func SetHook(w *Worker, hook func(point string, p Payout)) { w.hook = hook }

// PublicAddr is publicAddr, for its table test.
var PublicAddr = publicAddr
