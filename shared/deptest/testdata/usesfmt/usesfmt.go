// Package usesfmt imports fmt (which imports os) and unicode/utf8: a fixture of deptest's
// tests.
package usesfmt

import (
	"fmt"
	"unicode/utf8"
)

// Hello is a greeting.
var Hello = fmt.Sprint("hello", utf8.RuneLen('h'))
