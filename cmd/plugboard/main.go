// Command plugboard serves Plugboard's GraphQL API and manages its organisations and keys.
package main

import (
	"context"
	"os"

	"github.com/plugboard/plugboard/internal/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
