// Command satchel-demo-game is the program inside every demo build: a tiny terminal scene that
// shows the game's title and a drifting lantern, so that installing and launching a demo game
// shows something real. `satchel-demo-game -title "Lantern Drift" -frames 40`.
//
// When SATCHEL_DEMO_MARKER names a file, it appends "<title> <pid>" to it at start, so tests of
// the launcher can see that the game really ran.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	title := flag.String("title", "Satchel demo game", "the game's title")
	frames := flag.Int("frames", 60, "how many frames to draw (0: until interrupted)")
	flag.Parse()
	if marker := os.Getenv("SATCHEL_DEMO_MARKER"); marker != "" {
		f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "marker:", err)
			os.Exit(1)
		}
		fmt.Fprintf(f, "%s %d\n", *title, os.Getpid())
		f.Close()
	}
	fmt.Printf("\n  %s\n  %s\n\n", *title, strings.Repeat("~", len(*title)))
	const width = 48
	for i := 0; *frames == 0 || i < *frames; i++ {
		pos := i % (2 * width)
		if pos >= width {
			pos = 2*width - pos - 1
		}
		river := []rune(strings.Repeat("~", width))
		river[pos] = '*'
		fmt.Fprintf(os.Stdout, "\r  %s  frame %d", string(river), i+1)
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Println("\n\n  Thanks for playing a Satchel demo game.")
}
