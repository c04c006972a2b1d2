package market_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestDomainHasNoIO keeps the domain at the centre: it imports no adapter, no transport, no
// database driver.
func TestDomainHasNoIO(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	exact := []string{"net", "net/http", "os", "os/exec", "database/sql", "io/fs"}
	prefixes := []string{"satchel.dev/backend/", "satchel.dev/shared/api/", "github.com/jackc/", "connectrpc.com/"}
	for _, imp := range pkg.Imports {
		for _, f := range append(exact, prefixes...) {
			if imp == f || strings.HasSuffix(f, "/") && strings.HasPrefix(imp, f) {
				t.Errorf("market imports %s: the domain must not do I/O or know its adapters", imp)
			}
		}
	}
}
