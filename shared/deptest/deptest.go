// Package deptest checks import rules, for tests that keep the architecture what the layout
// says it is (as tailscale's tstest/deptest does). A Rule names the packages it covers and the
// import paths they must not reach; Violations asks the go command (go list, in the
// workspace) for the packages' imports and returns each broken edge. A forbidden path forbids
// the packages below it too (Forbid), or only itself (ForbidExact).
//
// It is for tests only: it runs the go command found on PATH.
package deptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Rule forbids the packages matched by Packages, but for those listed in Except, from
// importing any import path of Forbid or ForbidExact.
type Rule struct {
	// Packages are go list patterns ("satchel.dev/desktop/...", "./testdata/bad"). Required.
	Packages []string
	// Except are import paths of matched packages the rule does not apply to.
	Except []string
	// Forbid are import paths; each also forbids every package below it ("github.com/x"
	// forbids "github.com/x/y"). Forbid or ForbidExact is required.
	Forbid []string
	// ForbidExact are import paths forbidden themselves, not the packages below them ("net"
	// forbids net and allows net/url).
	ForbidExact []string
	// Direct limits the rule to the packages' own imports. By default every dependency counts,
	// so a package cannot reach a forbidden one through another; Direct is for standard
	// library packages that everything reaches (fmt imports os).
	Direct bool
}

// Violation is one package that reaches a forbidden import path.
type Violation struct {
	Package string
	Import  string
}

func (v Violation) String() string { return v.Package + " depends on " + v.Import }

// Violations lists the packages of r that import (or, unless r.Direct, depend on) a forbidden
// path, in go list's order; nil when the rule holds. Relative patterns are resolved in dir.
// A pattern that matches no package, or a package that does not load, is an error: a rule
// that checks nothing must not pass.
func (r Rule) Violations(dir string) ([]Violation, error) {
	if len(r.Packages) == 0 || len(r.Forbid) == 0 && len(r.ForbidExact) == 0 {
		return nil, errors.New("deptest: a rule needs Packages, and Forbid or ForbidExact")
	}
	pkgs, err := list(dir, r.Packages)
	if err != nil {
		return nil, err
	}
	var out []Violation
	for _, p := range pkgs {
		if slices.Contains(r.Except, p.ImportPath) {
			continue
		}
		imports := p.Deps
		if r.Direct {
			imports = p.Imports
		}
		for _, imp := range imports {
			if r.forbids(imp) {
				out = append(out, Violation{Package: p.ImportPath, Import: imp})
			}
		}
	}
	return out, nil
}

// Check fails t with one error per violation of r (see Violations).
func (r Rule) Check(t testing.TB, dir string) {
	t.Helper()
	vs, err := r.Violations(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Errorf("%s: the rule forbids %s", v, strings.Join(slices.Concat(r.Forbid, r.ForbidExact), ", "))
	}
}

func (r Rule) forbids(imp string) bool {
	if slices.Contains(r.ForbidExact, imp) {
		return true
	}
	for _, f := range r.Forbid {
		if imp == f || strings.HasPrefix(imp, f+"/") {
			return true
		}
	}
	return false
}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Error      *struct{ Err string }
}

// list runs go list over patterns in dir.
func list(dir string, patterns []string) ([]pkg, error) {
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Imports,Deps,Error", "--"}, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("deptest: go list %s: %v: %s", strings.Join(patterns, " "), err, stderr.Bytes())
	}
	var pkgs []pkg
	for dec := json.NewDecoder(bytes.NewReader(outb)); ; {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("deptest: reading go list's answer: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("deptest: %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("deptest: %s matches no package", strings.Join(patterns, " "))
	}
	return pkgs, nil
}
