//go:build !desktop

package main

import (
	"fmt"
	"io/fs"
	"os"
)

// runGUI in a build without the desktop tag explains how to get the window;
// the CLI works either way.
func runGUI(fs.FS) int {
	fmt.Fprintln(os.Stderr, "framecast: this build has no window (build with -tags desktop,production,webkit2_41, or run `make build`); try `framecast --help`")
	return 2
}
