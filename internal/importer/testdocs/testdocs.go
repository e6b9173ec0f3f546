// Package testdocs gives tests real API descriptions: GitHub's REST description
// (@octokit/openapi) and ReadMe's OpenAPI examples (@readme/oas-examples), installed with npm
// ci from internal/importer/testdata/npm's package-lock.json.
package testdocs

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var install sync.Mutex

// Dir returns the node_modules folder with the descriptions, installing them when they are
// missing or older than the lock file. Without npm the test is skipped, or fails when
// PLUGBOARD_TEST_REQUIRE_NODE is set.
func Dir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "testdata", "npm")
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Getenv("PLUGBOARD_TEST_REQUIRE_NODE") != "" {
			t.Fatal("npm is not installed")
		}
		t.Skip("npm is not installed (set PLUGBOARD_TEST_REQUIRE_NODE=1 to fail instead)")
	}
	install.Lock()
	defer install.Unlock()
	lock, errLock := os.Stat(filepath.Join(dir, "package-lock.json"))
	marker, errMarker := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if errLock != nil || errMarker != nil || marker.ModTime().Before(lock.ModTime()) {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci: %v\n%s", err, out)
		}
	}
	return filepath.Join(dir, "node_modules")
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
