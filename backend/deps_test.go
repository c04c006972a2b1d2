// Package backend_test holds the backend's import rules, so the imports draw the architecture:
// the domain (market) at the centre knows no I/O and no adapter; the services declare the
// stores they need and never import the adapter that implements them.
package backend_test

import (
	"slices"
	"testing"

	"satchel.dev/shared/deptest"
)

// The rules. Each test checks its rule on the real packages, then on a fixture under testdata
// that breaks it, to show the rule is caught.
var (
	// servicesRule: no service depends on package postgres.
	servicesRule = deptest.Rule{
		Packages: []string{"satchel.dev/backend/purchases", "satchel.dev/backend/admin", "satchel.dev/backend/payouts",
			"satchel.dev/backend/builds", "satchel.dev/backend/announce"},
		Forbid: []string{"satchel.dev/backend/postgres"},
	}
	// domainRule: market imports no I/O, no transport, no database driver and no other
	// backend package; net itself is forbidden, not net/url (parsing URLs is no I/O). Direct:
	// the standard library reaches os from fmt.
	domainRule = deptest.Rule{
		Packages: []string{"satchel.dev/backend/market"},
		Forbid: []string{"net/http", "os", "database/sql", "io/fs", "satchel.dev/backend", "satchel.dev/shared/api",
			"github.com/jackc", "github.com/riverqueue", "connectrpc.com"},
		ForbidExact: []string{"net"},
		Direct:      true,
	}
)

func TestServicesDoNotImportPostgres(t *testing.T) {
	checkRule(t, servicesRule, "./testdata/servicewithsql",
		deptest.Violation{Package: "satchel.dev/backend/testdata/servicewithsql", Import: "satchel.dev/backend/postgres"})
}

func TestDomainHasNoIO(t *testing.T) {
	const fixture = "satchel.dev/backend/testdata/domainwithio"
	checkRule(t, domainRule, "./testdata/domainwithio",
		deptest.Violation{Package: fixture, Import: "net"}, deptest.Violation{Package: fixture, Import: "net/http"})
}

// checkRule checks rule on its packages, then on fixture (a package that breaks it), which
// must give every violation of want.
func checkRule(t *testing.T, rule deptest.Rule, fixture string, want ...deptest.Violation) {
	t.Helper()
	rule.Check(t, ".")
	rule.Packages = []string{fixture}
	got, err := rule.Violations(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("the fixture's violations are %v, want them to include %v", got, w)
		}
	}
}
