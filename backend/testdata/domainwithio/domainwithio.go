// Package domainwithio breaks the domain's rule of backend/deps_test.go: it does I/O.
package domainwithio

import "net/http"

// Client is a transport, which the domain must not know.
type Client = http.Client
