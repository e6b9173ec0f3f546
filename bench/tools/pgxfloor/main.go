// Command pgxfloor is the floor of `make bench`: it runs one of Plugboard's own statements
// (bench/pgbench/<query>.sql, pgbench's script syntax) from -c connections for -T, as fast as
// the database answers, and prints pgbench's summary lines (tps, failed transactions).
//
// pgbench itself was the floor before, but it asks for every result in text, where Plugboard
// (pgx) reads binary: for q_list, whose rows hold arrays of records, formatting them as text
// was most of the database's work, and Plugboard came out at 178 % of its "floor". pgxfloor
// uses the client Plugboard uses, pgx, with its statement cache (prepared once per
// connection, binary results), and reads each row's raw bytes without decoding them: the
// floor is what the database can do for this client, not what a client can decode.
//
// Script syntax understood: "-- comments", `\set name random(lo, hi)` lines, and SQL statements,
// each ending with a line that ends in ";", run one after another on the connection (not in a
// transaction, as Plugboard sends them). :name references become parameters (one per
// occurrence, sent as text, as pgbench -M prepared sends them). A `\gset` line after a
// statement stores its first row's columns as variables of the names of its columns, for the
// statements after it (pgbench's \gset); a statement that gives no row fails the transaction.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

type variable struct {
	name   string
	lo, hi int64
}

var (
	setLine = regexp.MustCompile(`^\\set\s+(\w+)\s+random\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)\s*$`)
	// A reference is :name, not the second colon of a ::type cast.
	ref = regexp.MustCompile(`(^|[^:]):(\w+)`)
)

func main() {
	url := flag.String("url", "", "PostgreSQL URL")
	file := flag.String("f", "", "pgbench script")
	conns := flag.Int("c", 16, "connections")
	dur := flag.Duration("T", 15*time.Second, "duration")
	flag.Parse()
	if *url == "" || *file == "" {
		fail("usage: pgxfloor -url URL -f SCRIPT [-c 16] [-T 15s]")
	}
	src, err := os.ReadFile(*file)
	check(err)
	vars := map[string]variable{}
	var steps []step
	var sql strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "--"):
		case t == `\gset`:
			if len(steps) == 0 || sql.Len() > 0 {
				fail(`\gset must follow a statement's last line`)
			}
			steps[len(steps)-1].gset = true
		case strings.HasPrefix(t, `\`):
			m := setLine.FindStringSubmatch(t)
			if m == nil {
				fail("unsupported meta-command: " + t)
			}
			lo, _ := strconv.ParseInt(m[2], 10, 64)
			hi, _ := strconv.ParseInt(m[3], 10, 64)
			vars[m[1]] = variable{m[1], lo, hi}
		default:
			sql.WriteString(line + "\n")
			if strings.HasSuffix(t, ";") {
				steps = append(steps, step{text: sql.String()})
				sql.Reset()
			}
		}
	}
	if sql.Len() > 0 {
		steps = append(steps, step{text: sql.String()})
	}
	if len(steps) == 0 {
		fail("no statement in " + *file)
	}
	// Each :name becomes $n: a \set variable, drawn per transaction, or a column of an earlier
	// \gset statement's row (run fails when there is none of that name).
	for i := range steps {
		st := &steps[i]
		st.text = strings.TrimSuffix(strings.TrimSpace(st.text), ";")
		st.text = ref.ReplaceAllStringFunc(st.text, func(m string) string {
			at := strings.LastIndexByte(m, ':')
			st.order = append(st.order, m[at+1:])
			return m[:at] + "$" + strconv.Itoa(len(st.order))
		})
	}
	ctx := context.Background()
	var done, failed atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	ready := make(chan *pgx.Conn, *conns)
	for range *conns {
		c, err := pgx.Connect(ctx, *url)
		check(err)
		ready <- c
	}
	start := time.Now()
	deadline := start.Add(*dur)
	for range *conns {
		c := <-ready
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close(ctx)
			drawn := map[string]any{}
			for time.Now().Before(deadline) {
				// One draw per variable and transaction, as pgbench's \set.
				for name, v := range vars {
					drawn[name] = strconv.FormatInt(v.lo+rand.Int64N(v.hi-v.lo+1), 10)
				}
				if err := run(ctx, c, steps, drawn); err != nil {
					if failed.Add(1) == 1 {
						first.Store(err.Error())
					}
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	fmt.Printf("client: pgx (statement cache: prepared once per connection, binary results)\n")
	fmt.Printf("number of clients: %d\n", *conns)
	fmt.Printf("number of transactions actually processed: %d\n", done.Load())
	fmt.Printf("number of failed transactions: %d\n", failed.Load())
	if f, ok := first.Load().(string); ok {
		fmt.Printf("first failure: %s\n", f)
	}
	fmt.Printf("tps = %f (without initial connection time)\n", float64(done.Load())/secs)
}

type step struct {
	text  string
	order []string // the variable of each parameter
	gset  bool
}

// run is one transaction of the script: its statements in turn, each row's raw bytes read
// without decoding them but for a \gset statement's first row.
func run(ctx context.Context, c *pgx.Conn, steps []step, drawn map[string]any) error {
	for _, st := range steps {
		args := make([]any, len(st.order))
		for i, name := range st.order {
			v, ok := drawn[name]
			if !ok {
				return fmt.Errorf("no value for :%s (neither \\set nor an earlier \\gset)", name)
			}
			args[i] = v
		}
		rows, err := c.Query(ctx, st.text, args...)
		if err != nil {
			return err
		}
		got := false
		for rows.Next() {
			if st.gset && !got {
				values, err := rows.Values()
				if err != nil {
					rows.Close()
					return err
				}
				for i, f := range rows.FieldDescriptions() {
					drawn[f.Name] = fmt.Sprint(values[i])
				}
			} else {
				_ = rows.RawValues()
			}
			got = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if st.gset && !got {
			return fmt.Errorf("no row for \\gset from %.60s", st.text)
		}
	}
	return nil
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "pgxfloor:", msg)
	os.Exit(2)
}
