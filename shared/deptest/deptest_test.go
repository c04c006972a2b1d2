package deptest_test

import (
	"slices"
	"testing"

	"satchel.dev/shared/deptest"
)

func TestViolations(t *testing.T) {
	const fixture = "satchel.dev/shared/deptest/testdata/usesfmt"
	fixtures := []string{"./testdata/usesfmt"}
	for _, tc := range []struct {
		name string
		rule deptest.Rule
		want []deptest.Violation
	}{
		{"dependency", deptest.Rule{Packages: fixtures, Forbid: []string{"os"}},
			[]deptest.Violation{{Package: fixture, Import: "os"}}},
		{"direct only", deptest.Rule{Packages: fixtures, Forbid: []string{"os"}, Direct: true}, nil},
		{"below a forbidden path", deptest.Rule{Packages: fixtures, Forbid: []string{"unicode"}, Direct: true},
			[]deptest.Violation{{Package: fixture, Import: "unicode/utf8"}}},
		{"a prefix that is not a path", deptest.Rule{Packages: fixtures, Forbid: []string{"fm"}, Direct: true}, nil},
		{"excepted", deptest.Rule{Packages: fixtures, Except: []string{fixture}, Forbid: []string{"os"}}, nil},
		{"exact", deptest.Rule{Packages: fixtures, ForbidExact: []string{"unicode/utf8"}, Direct: true},
			[]deptest.Violation{{Package: fixture, Import: "unicode/utf8"}}},
		{"exact, not below", deptest.Rule{Packages: fixtures, ForbidExact: []string{"unicode"}, Direct: true}, nil},
		{"exact and below", deptest.Rule{Packages: fixtures, Forbid: []string{"unicode"}, ForbidExact: []string{"fmt"}, Direct: true},
			[]deptest.Violation{{Package: fixture, Import: "fmt"}, {Package: fixture, Import: "unicode/utf8"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.rule.Violations(".")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("violations = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRuleThatChecksNothingFails(t *testing.T) {
	if _, err := (deptest.Rule{Packages: []string{"./testdata/none/..."}, Forbid: []string{"os"}}).Violations("."); err == nil {
		t.Error("a pattern that matches no package passed")
	}
	if _, err := (deptest.Rule{Packages: []string{"./testdata/usesfmt"}}).Violations("."); err == nil {
		t.Error("a rule that forbids nothing passed")
	}
}
