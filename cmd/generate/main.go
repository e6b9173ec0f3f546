// Command generate is `make generate`: gqlgen's code generation from gqlgen.yml, plus the
// direct executor's field table and writers (internal/directgen) in graph/generated/direct.
package main

import (
	"fmt"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen/config"

	"github.com/plugboard/plugboard/internal/directgen"
)

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err == nil {
		err = api.Generate(cfg, api.AddPlugin(directgen.New("graph/generated/direct/direct.go")))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}
