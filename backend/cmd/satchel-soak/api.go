package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"satchel.dev/shared/api/satchel/admin/v1/adminv1connect"
	"satchel.dev/shared/api/satchel/catalog/v1/catalogv1connect"
	"satchel.dev/shared/api/satchel/developer/v1/developerv1connect"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
	"satchel.dev/shared/api/satchel/purchase/v1/purchasev1connect"
	"satchel.dev/shared/nip98"
	"satchel.dev/shared/nostr"
)

// api is one identity's Connect clients of one instance, signed with NIP-98 when it has a key.
type api struct {
	in        *instance
	catalog   catalogv1connect.CatalogServiceClient
	purchase  purchasev1connect.PurchaseServiceClient
	library   libraryv1connect.LibraryServiceClient
	developer developerv1connect.DeveloperServiceClient
	admin     adminv1connect.AdminServiceClient
}

// apis are an identity's clients of every instance.
type apis []*api

// newAPIs makes the clients of signer (nil: unsigned, a guest) for every instance.
func newAPIs(signer nostr.Signer, instances []*instance, rec *recorder) apis {
	var rt http.RoundTripper = http.DefaultTransport
	if signer != nil {
		rt = &nip98.Transport{Signer: signer}
	}
	hc := &http.Client{Transport: rt}
	opt := connect.WithInterceptors(rec.interceptor())
	out := make(apis, len(instances))
	for i, in := range instances {
		out[i] = &api{in: in,
			catalog:   catalogv1connect.NewCatalogServiceClient(hc, in.url, opt),
			purchase:  purchasev1connect.NewPurchaseServiceClient(hc, in.url, opt),
			library:   libraryv1connect.NewLibraryServiceClient(hc, in.url, opt),
			developer: developerv1connect.NewDeveloperServiceClient(hc, in.url, opt),
			admin:     adminv1connect.NewAdminServiceClient(hc, in.url, opt),
		}
	}
	return out
}

// pick returns the client of a running instance, at random.
func (as apis) pick(rng *rand.Rand) *api {
	var up []*api
	for _, a := range as {
		if a.in.up() {
			up = append(up, a)
		}
	}
	if len(up) == 0 {
		return as[rng.IntN(len(as))]
	}
	return up[rng.IntN(len(up))]
}

// retryLimit bounds how long call keeps trying through outages.
const retryLimit = 90 * time.Second

// call calls f on a running instance, and again on another after an outage (the instance
// gone, the database or a store down), the way a client behind a load balancer would, for up
// to retryLimit. A refusal (bad input, a state that does not allow it) is returned at once.
func call[T any](ctx context.Context, as apis, rng *rand.Rand, f func(*api) (T, error)) (T, error) {
	deadline := time.Now().Add(retryLimit)
	wait := 250 * time.Millisecond
	for {
		v, err := f(as.pick(rng))
		if err == nil || refusal(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return v, err
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// refusal reports whether err is the server refusing the request, as opposed to an outage.
func refusal(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeInvalidArgument, connect.CodeAlreadyExists, connect.CodeNotFound, connect.CodePermissionDenied,
		connect.CodeFailedPrecondition, connect.CodeResourceExhausted, connect.CodeCanceled:
		return true
	}
	return errors.Is(err, context.Canceled)
}

// errorf wraps err with what was being done.
func errorf(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}
