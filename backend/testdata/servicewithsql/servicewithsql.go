// Package servicewithsql breaks the services' rule of backend/deps_test.go: it imports the
// postgres adapter.
package servicewithsql

import "satchel.dev/backend/postgres"

// Repo is the adapter's type, which a service must not know.
type Repo = postgres.PurchaseRepo
