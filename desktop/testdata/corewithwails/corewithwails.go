// Package corewithwails breaks the rule of deps_test.go: a launcher package, not the bridge,
// that imports Wails.
package corewithwails

import "github.com/wailsapp/wails/v2/pkg/runtime"

// Quit closes the window, which only the bridge may do.
var Quit = runtime.Quit
