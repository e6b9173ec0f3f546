package testdb

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEverySkipCanBeRequired keeps skips from going silent in CI: every Skip in the
// repository's Go files sits under an os.Getenv of a PLUGBOARD_TEST_REQUIRE_* variable that
// turns it into a failure, and CI (.ci/run, or the Makefile's test target it runs) sets each.
func TestEverySkipCanBeRequired(t *testing.T) {
	root := filepath.Join("..", "..")
	skip := regexp.MustCompile(`\.Skip(f|Now)?\(`)
	require := regexp.MustCompile(`os\.Getenv\("(PLUGBOARD_TEST_REQUIRE_[A-Z_]+)"\)`)
	const lookBack = 6 // lines above a Skip where its variable must be checked
	needed := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "generated" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "skips_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.Split(string(b), "\n")
		for i, line := range lines {
			if !skip.MatchString(line) || strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			m := require.FindStringSubmatch(strings.Join(lines[max(i-lookBack, 0):i], "\n"))
			if m == nil {
				t.Errorf("%s:%d skips with no PLUGBOARD_TEST_REQUIRE_* variable to make it fail in CI", path, i+1)
				continue
			}
			needed[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) == 0 {
		t.Fatal("found no skips at all: the walk is broken")
	}
	var ci string
	for _, f := range []string{".ci/run", "Makefile"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		ci += string(b)
	}
	for name, path := range needed {
		if !regexp.MustCompile(`(export |^|\s)` + name + `=1`).MatchString(ci) {
			t.Errorf("%s (checked in %s) is set neither by .ci/run nor by the Makefile's test target", name, path)
		}
	}
}
