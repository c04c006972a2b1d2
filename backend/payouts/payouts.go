// Package payouts pays developers their share of each paid purchase, to their Lightning
// Address, as a background job.
package payouts

// Args is the job that pays the developer of a paid purchase. The settlement enqueues it in
// the same transaction that marks the purchase PAID.
type Args struct {
	PurchaseID string `json:"purchase_id"`
}

// Kind names the job in the queue.
func (Args) Kind() string { return "payout" }
