package clustertest

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStatusWithoutCluster: `cluster.sh status` with nothing running says so on stderr and
// exits non-zero, instead of printing nothing and succeeding. (Runs without the cluster tag:
// it starts nothing.)
func TestStatusWithoutCluster(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "cluster.sh")
	cmd := exec.Command(script, "status")
	cmd.Env = append(cmd.Environ(), "PLUGBOARD_CLUSTER_DIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "no cluster is running") {
		t.Errorf("status without a cluster: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}
