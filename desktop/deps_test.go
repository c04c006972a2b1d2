package main

import (
	"slices"
	"testing"

	"satchel.dev/shared/deptest"
)

// TestOnlyTheBridgeImportsWails keeps the launcher's engine without a face: no package of the
// desktop module but the bridge (app) and this command depends on Wails, so the satchel CLI
// and the tests drive the same core with no window. The fixture under testdata breaks the
// rule, to show it is caught.
func TestOnlyTheBridgeImportsWails(t *testing.T) {
	rule := deptest.Rule{Packages: []string{"satchel.dev/desktop/..."}, Except: []string{"satchel.dev/desktop", "satchel.dev/desktop/app"},
		Forbid: []string{"github.com/wailsapp"}}
	rule.Check(t, ".")

	rule.Packages = []string{"./testdata/corewithwails"}
	got, err := rule.Violations(".")
	if err != nil {
		t.Fatal(err)
	}
	want := deptest.Violation{Package: "satchel.dev/desktop/testdata/corewithwails", Import: "github.com/wailsapp/wails/v2/pkg/runtime"}
	if !slices.Contains(got, want) {
		t.Errorf("the fixture's violations are %v, want them to include %v", got, want)
	}
}
