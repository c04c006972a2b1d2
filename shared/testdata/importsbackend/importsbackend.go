// Package importsbackend breaks the rule of shared/deps_test.go: it imports the backend.
package importsbackend

import "satchel.dev/backend/market"

// Code is a backend type, which shared code must not know.
type Code = market.Code
