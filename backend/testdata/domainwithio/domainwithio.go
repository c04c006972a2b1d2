// Package domainwithio breaks the domain's rule of backend/deps_test.go: it does I/O, through
// net and net/http.
package domainwithio

import (
	"net"
	"net/http"
)

// Client is a transport, which the domain must not know.
type Client = http.Client

// Dialer opens connections, which the domain must not do.
type Dialer = net.Dialer
