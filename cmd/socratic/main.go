// Command socratic is the Socratic law tutor's server and its admin tools.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "socratic:", err)
		os.Exit(1)
	}
}
