// Command usersync keeps an Adobe organisation's users and product access in
// step with a company directory. See README.md and docs/.
package main

import (
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fmt.Fprintln(os.Stderr, "usersync: commands are being built; see README.md")
	return 2
}
