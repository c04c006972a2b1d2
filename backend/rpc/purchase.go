package rpc

import (
	"context"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/lightning"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	purchasev1 "satchel.dev/shared/api/satchel/purchase/v1"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	testmoneyv1 "satchel.dev/shared/api/satchel/testmoney/v1"
	"satchel.dev/shared/api/satchel/testmoney/v1/testmoneyv1connect"
)

type purchaseHandler struct {
	purchases *purchases.Service
}

func (h purchaseHandler) toProto(p market.Purchase) *purchasev1.Purchase {
	return &purchasev1.Purchase{
		Id: p.ID, GameId: p.GameID, GameTitle: p.GameTitle, Status: purchaseStatuses[p.Status], AmountMsat: p.AmountMsat,
		PaymentRequest: p.PaymentRequest, ExpiresAt: optionalTime(p.ExpiresAt), PaidAt: optionalTime(p.PaidAt),
		CreatedAt: timestamppb.New(p.CreatedAt), FailureReason: p.FailureReason,
		TestMoney: p.Provider == "dev" || p.Provider == "" && h.purchases.TestMoney(), Guest: p.Guest(),
	}
}

var purchaseStatuses = map[market.PurchaseStatus]purchasev1.PurchaseStatus{
	market.PurchasePending:  purchasev1.PurchaseStatus_PURCHASE_STATUS_PENDING,
	market.PurchasePaid:     purchasev1.PurchaseStatus_PURCHASE_STATUS_PAID,
	market.PurchaseExpired:  purchasev1.PurchaseStatus_PURCHASE_STATUS_EXPIRED,
	market.PurchaseFailed:   purchasev1.PurchaseStatus_PURCHASE_STATUS_FAILED,
	market.PurchaseRefunded: purchasev1.PurchaseStatus_PURCHASE_STATUS_REFUNDED,
}

func (h purchaseHandler) CreatePurchase(ctx context.Context, req *purchasev1.CreatePurchaseRequest) (*purchasev1.CreatePurchaseResponse, error) {
	p, code, err := h.purchases.Create(ctx, actor(ctx), req.GetGameId(), req.GetRequestId(), req.GetClientSecret(), client(ctx))
	if err != nil {
		return nil, err
	}
	return &purchasev1.CreatePurchaseResponse{Purchase: h.toProto(p), ReceiptCode: code}, nil
}

func (h purchaseHandler) GetPurchase(ctx context.Context, req *purchasev1.GetPurchaseRequest) (*purchasev1.GetPurchaseResponse, error) {
	p, err := h.purchases.Get(ctx, actor(ctx), req.GetPurchaseId(), req.GetReceiptCode(), client(ctx))
	if err != nil {
		return nil, err
	}
	return &purchasev1.GetPurchaseResponse{Purchase: h.toProto(p)}, nil
}

func (h purchaseHandler) WatchPurchase(ctx context.Context, req *purchasev1.WatchPurchaseRequest, stream *connect.ServerStream[purchasev1.WatchPurchaseResponse]) error {
	return h.purchases.Watch(ctx, actor(ctx), req.GetPurchaseId(), req.GetReceiptCode(), client(ctx), func(p market.Purchase) error {
		return stream.Send(&purchasev1.WatchPurchaseResponse{Purchase: h.toProto(p)})
	})
}

func (h purchaseHandler) ClaimReceipt(ctx context.Context, req *purchasev1.ClaimReceiptRequest) (*purchasev1.ClaimReceiptResponse, error) {
	p, err := h.purchases.Claim(ctx, actor(ctx), req.GetReceiptCode(), client(ctx))
	if err != nil {
		return nil, err
	}
	return &purchasev1.ClaimReceiptResponse{Purchase: h.toProto(p)}, nil
}

var _ purchasev1connect.PurchaseServiceHandler = purchaseHandler{}

// TestMoney settles the dev provider's invoices; nil on servers with a real provider. Its
// refusals carry their domain codes (an invoice paid, expired or canceled: FailedPrecondition;
// what is not an invoice: Invalid; an invoice of another node: NotFound), so a person paying
// with test money learns what was wrong, never "internal".
type TestMoney interface {
	Settle(ctx context.Context, paymentRequestOrHash string) (lightning.Invoice, error)
}

type testMoneyHandler struct {
	dev TestMoney
}

func (h testMoneyHandler) PayInvoice(ctx context.Context, req *testmoneyv1.PayInvoiceRequest) (*testmoneyv1.PayInvoiceResponse, error) {
	if h.dev == nil {
		return nil, market.Errorf(market.CodeFailedPrecondition, "this server takes real money: pay the invoice with a Lightning wallet")
	}
	if req.GetPaymentRequest() == "" {
		return nil, market.Errorf(market.CodeInvalid, "payment_request is required")
	}
	if _, err := h.dev.Settle(ctx, req.GetPaymentRequest()); err != nil {
		return nil, err
	}
	return &testmoneyv1.PayInvoiceResponse{}, nil
}

var _ testmoneyv1connect.TestMoneyServiceHandler = testMoneyHandler{}

func formatToken(id int64) string { return strconv.FormatInt(id, 10) }
