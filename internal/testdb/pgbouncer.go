package testdb

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// StartPgBouncer starts Debian's pgbouncer in transaction pool mode on a free loopback port,
// in front of the PostgreSQL server of databaseURL, and returns databaseURL rewritten to go
// through it. Each database keeps at most serverConns server connections, so that a pool of
// more clients has them share (and swap) server sessions, as in production. A missing binary
// skips the test unless PLUGBOARD_TEST_REQUIRE_PGBOUNCER is set (`apt-get install pgbouncer`).
func StartPgBouncer(t testing.TB, databaseURL string, serverConns int) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer" // Debian's package puts it outside a user's PATH
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("PLUGBOARD_TEST_REQUIRE_PGBOUNCER") != "" {
			t.Fatal("pgbouncer not found: apt-get install pgbouncer")
		}
		t.Skip("pgbouncer not found (apt-get install pgbouncer)")
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatalf("database URL: %v", err)
	}
	upstreamHost, upstreamPort, err := net.SplitHostPort(u.Host)
	if err != nil {
		t.Fatalf("database URL without host:port: %v", err)
	}
	dir, err := os.MkdirTemp("", "plugboard-pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// The test server trusts loopback; pgbouncer's trust still wants each user in its file.
	userName := u.User.Username()
	users := filepath.Join(dir, "userlist.txt")
	conf := filepath.Join(dir, "pgbouncer.ini")
	files := map[string]string{
		users: fmt.Sprintf("%q \"\"\n", userName),
		conf: fmt.Sprintf(`[databases]
* = host=%s port=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 200
; pgbouncer refuses startup parameters it does not know, unless listed here
ignore_startup_parameters = extra_float_digits
`, upstreamHost, upstreamPort, port, dir, users, serverConns),
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, conf)
	if os.Geteuid() == 0 {
		// pgbouncer refuses to run as root.
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // "safe shutdown" for pgbouncer
		<-exited
	})
	// pgbouncer logs "process up" once it listens: wait for that line, not for a clock.
	listening := make(chan struct{})
	up := listening
	var logs strings.Builder
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "process up") && up != nil {
				close(up)
				up = nil
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case <-listening:
	case <-exited:
		t.Fatalf("pgbouncer exited before listening:\n%s", logs.String())
	case <-time.After(30 * time.Second): // only keeps a stuck start from hanging the suite
		t.Fatal("pgbouncer did not start")
	}
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return u.String()
}
