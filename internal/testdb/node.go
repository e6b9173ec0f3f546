package testdb

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var npmInstall sync.Mutex

// NodePackages makes sure dir/node_modules matches dir/package-lock.json, running npm ci
// (from the registry, without install scripts when noScripts) when it is missing or older
// than the lock file, and returns dir. Without Node and npm the test is skipped, or fails
// when PLUGBOARD_TEST_REQUIRE_NODE is set (as CI does).
func NodePackages(t testing.TB, dir string, noScripts bool) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("PLUGBOARD_TEST_REQUIRE_NODE") != "" {
				t.Fatal(tool + " is not installed")
			}
			t.Skip(tool + " is not installed (set PLUGBOARD_TEST_REQUIRE_NODE=1 to fail instead)")
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Tests of one package may share a folder; npm ci in it twice at once would collide.
	npmInstall.Lock()
	defer npmInstall.Unlock()
	lock, errLock := os.Stat(filepath.Join(dir, "package-lock.json"))
	marker, errMarker := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if errLock == nil && errMarker == nil && !marker.ModTime().Before(lock.ModTime()) {
		return dir
	}
	args := []string{"ci", "--no-audit", "--no-fund"}
	if noScripts {
		args = append(args, "--ignore-scripts")
	}
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return dir
}
