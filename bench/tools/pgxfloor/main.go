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
// Script syntax understood: "-- comments", `\set name random(lo, hi)` lines, and one SQL
// statement whose :name references become parameters (one per occurrence, sent as text, as
// pgbench -M prepared sends them).
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
	ref     = regexp.MustCompile(`:(\w+)`)
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
	var sql strings.Builder
	for _, line := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "" || strings.HasPrefix(t, "--"):
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
		}
	}
	// Each :name of a \set variable becomes $n (::type casts name no variable).
	var order []string
	text := strings.TrimSuffix(strings.TrimSpace(sql.String()), ";")
	text = ref.ReplaceAllStringFunc(text, func(m string) string {
		v, ok := vars[m[1:]]
		if !ok {
			return m
		}
		order = append(order, v.name)
		return "$" + strconv.Itoa(len(order))
	})
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
			args := make([]any, len(order))
			drawn := map[string]string{}
			for time.Now().Before(deadline) {
				// One draw per variable and transaction, as pgbench's \set.
				for name, v := range vars {
					drawn[name] = strconv.FormatInt(v.lo+rand.Int64N(v.hi-v.lo+1), 10)
				}
				for i, name := range order {
					args[i] = drawn[name]
				}
				rows, err := c.Query(ctx, text, args...)
				if err == nil {
					for rows.Next() {
						_ = rows.RawValues()
					}
					rows.Close()
					err = rows.Err()
				}
				if err != nil {
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

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "pgxfloor:", msg)
	os.Exit(2)
}
