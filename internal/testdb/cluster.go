package testdb

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Cluster is a PostgreSQL server of a test's own, which the test may kill and restart.
type Cluster struct {
	URL  string
	bin  string
	data string
	port int
	log  string
	as   string // OS user to run as ("" for the current one)
}

// StartCluster initialises and starts a private PostgreSQL server on a free loopback port. It
// skips the test when the server binaries are missing, unless PostgreSQL is required.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin := os.Getenv("PLUGBOARD_TEST_POSTGRES_BIN")
	if bin == "" {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		for _, m := range matches {
			if _, err := os.Stat(filepath.Join(m, "initdb")); err == nil {
				bin = m
			}
		}
	}
	if bin == "" {
		if os.Getenv("PLUGBOARD_TEST_REQUIRE_POSTGRES") != "" {
			t.Fatal("PostgreSQL server binaries not found")
		}
		t.Skip("PostgreSQL server binaries not found")
	}
	dir, err := os.MkdirTemp("", "plugboard-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{bin: bin, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "postgres.log")}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		c.as = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if out, err := c.run("initdb", "-D", c.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	c.Start(t)
	return c
}

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if c.as != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.as, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	return cmd.CombinedOutput()
}

// Start starts (or restarts) the server and waits until it accepts connections. Commits are
// synchronous, so that a killed server keeps every commit it acknowledged (fsync is off: the
// process dies, not the machine).
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, filepath.Dir(c.data))
	if out, err := c.run("pg_ctl", "-D", c.data, "-l", c.log, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		t.Fatalf("start postgres: %v\n%s", err, out)
	}
}

// Kill stops the server abruptly, as a crash would: open transactions are lost.
func (c *Cluster) Kill(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data, "-m", "immediate", "-w", "stop"); err != nil {
		t.Fatalf("kill postgres: %v\n%s", err, out)
	}
	// Let the kernel release the port before a restart.
	time.Sleep(100 * time.Millisecond)
}
