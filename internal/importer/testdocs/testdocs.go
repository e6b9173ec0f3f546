// Package testdocs gives tests real API descriptions: GitHub's REST description
// (@octokit/openapi) and ReadMe's OpenAPI examples (@readme/oas-examples), installed with npm
// ci from internal/importer/testdata/npm's package-lock.json.
package testdocs

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/plugboard/plugboard/internal/testdb"
)

// Dir returns the node_modules folder with the descriptions, installing them when they are
// missing or older than the lock file. Without npm the test is skipped, or fails when
// PLUGBOARD_TEST_REQUIRE_NODE is set.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "testdata", "npm")
	return filepath.Join(testdb.NodePackages(t, dir, true), "node_modules")
}

// GitHub is GitHub's REST description (api.github.com, about 13 MB of JSON).
func GitHub(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(Dir(t), "@octokit", "openapi", "generated", "api.github.com.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Examples returns the paths of ReadMe's OpenAPI 3.0 and 3.1 examples, JSON and YAML.
func Examples(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"3.0/json/*.json", "3.0/yaml/*.yaml", "3.1/json/*.json", "3.1/yaml/*.yaml"} {
		m, err := filepath.Glob(filepath.Join(Dir(t), "@readme", "oas-examples", pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no OpenAPI examples installed")
	}
	return files
}
