// Package shared_test holds the rule of the shared module: code both sides use knows neither.
package shared_test

import (
	"slices"
	"testing"

	"satchel.dev/shared/deptest"
)

// TestSharedImportsNeitherSide keeps shared below both sides: no shared package depends on the
// backend or the desktop. The fixture under testdata breaks the rule, to show it is caught.
func TestSharedImportsNeitherSide(t *testing.T) {
	rule := deptest.Rule{Packages: []string{"satchel.dev/shared/..."}, Forbid: []string{"satchel.dev/backend", "satchel.dev/desktop"}}
	rule.Check(t, ".")

	rule.Packages = []string{"./testdata/importsbackend"}
	got, err := rule.Violations(".")
	if err != nil {
		t.Fatal(err)
	}
	want := deptest.Violation{Package: "satchel.dev/shared/testdata/importsbackend", Import: "satchel.dev/backend/market"}
	if !slices.Contains(got, want) {
		t.Errorf("the fixture's violations are %v, want them to include %v", got, want)
	}
}
