// Command openloop is the open-loop half of `make bench`: it sends POSTs at a constant rate with
// vegeta's attacker (github.com/tsenart/vegeta/v12), whatever the server's latency, so that a
// slow answer cannot hold back the next request (a closed loop such as wrk's would, and its p99
// then mostly measures the throughput). Requests are built like bench/wrk/graphql.lua's: the
// body in -body, and per request a random line of -pairs ("<api key> [<id> [<name>]]": the key
// goes in Authorization, the id replaces the first UUID after "variables", the name replaces
// __NAME__) or of -ids (one id per line, no key). Every answer is checked: HTTP 200 and no
// "errors" member, and -expect (when set) somewhere in the body; the failures are counted.
// Prints one line:
//
//	RESULT requests=… rate=… throughput=… p50_ms=… p90_ms=… p99_ms=… max_ms=… errors=… capped=0|1
//
// -max-workers caps the requests in flight (256): an uncapped open loop opens a connection per
// late answer, and a server that falls behind then collapses under thousands of them.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	url := flag.String("url", "", "GraphQL endpoint")
	bodyFile := flag.String("body", "", "request body file")
	pairsFile := flag.String("pairs", "", `lines "<api key> [<id> [<name>]]"`)
	idsFile := flag.String("ids", "", "lines <id>")
	rate := flag.Float64("rate", 100, "requests per second")
	dur := flag.Duration("duration", 15*time.Second, "how long to attack")
	timeout := flag.Duration("timeout", 10*time.Second, "per-request timeout")
	expect := flag.String("expect", "", "a substring every answer must hold")
	maxWorkers := flag.Uint64("max-workers", 256, "most requests in flight: a server that falls behind the rate gets no more connections than this, and the rate sent drops instead (capped=1)")
	flag.Parse()
	if *url == "" || *bodyFile == "" || *rate <= 0 {
		fail("usage: openloop -url URL -body FILE [-pairs FILE | -ids FILE] -rate N -duration D")
	}
	body, err := os.ReadFile(*bodyFile)
	check(err)
	targets := build(*url, body, *pairsFile, *idsFile)

	targeter := func(t *vegeta.Target) error {
		*t = targets[rand.IntN(len(targets))]
		return nil
	}
	attacker := vegeta.NewAttacker(vegeta.Timeout(*timeout), vegeta.KeepAlive(true), vegeta.HTTP2(false), vegeta.MaxWorkers(*maxWorkers))
	var m vegeta.Metrics
	errs := 0
	var sample string
	r := vegeta.Rate{Freq: int(*rate + 0.5), Per: time.Second}
	for res := range attacker.Attack(targeter, r, *dur, "openloop") {
		bad := res.Code != http.StatusOK || res.Error != "" || bytes.Contains(res.Body, []byte(`"errors"`)) ||
			(*expect != "" && !bytes.Contains(res.Body, []byte(*expect)))
		if bad {
			errs++
			if sample == "" {
				sample = fmt.Sprintf("HTTP %d %s %.300s", res.Code, res.Error, res.Body)
			}
		}
		res.Body = nil
		m.Add(res)
	}
	m.Close()
	if sample != "" {
		fmt.Fprintf(os.Stderr, "openloop: %d bad answers, first: %s\n", errs, sample)
	}
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	// With every worker busy vegeta waits for one to free: the rate sent falls below the rate
	// asked and the latencies leave out the wait (the open loop has become closed).
	capped := 0
	if m.Rate < 0.95**rate {
		capped = 1
	}
	fmt.Printf("RESULT requests=%d rate=%.1f throughput=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d capped=%d\n",
		m.Requests, m.Rate, m.Throughput, ms(m.Latencies.P50), ms(m.Latencies.P90), ms(m.Latencies.P99), ms(m.Latencies.Max), errs, capped)
}

var uuid = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// build formats every request once, as the wrk script does.
func build(url string, body []byte, pairsFile, idsFile string) []vegeta.Target {
	type line struct{ key, id, name string }
	var lines []line
	read := func(path string, f func([]string)) {
		fh, err := os.Open(path)
		check(err)
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) > 0 {
				f(fs)
			}
		}
		check(sc.Err())
	}
	switch {
	case pairsFile != "":
		read(pairsFile, func(fs []string) {
			l := line{key: fs[0]}
			if len(fs) > 1 {
				l.id = fs[1]
			}
			if len(fs) > 2 {
				l.name = fs[2]
			}
			lines = append(lines, l)
		})
	case idsFile != "":
		read(idsFile, func(fs []string) { lines = append(lines, line{id: fs[0]}) })
	default:
		lines = []line{{}}
	}
	if len(lines) == 0 {
		fail("no lines in the pairs/ids file")
	}
	vstart := bytes.Index(body, []byte(`"variables"`))
	if vstart < 0 {
		vstart = 0
	}
	loc := uuid.FindIndex(body[vstart:])
	out := make([]vegeta.Target, 0, len(lines))
	for _, l := range lines {
		b := body
		if loc != nil && l.id != "" {
			b = append(append(append([]byte{}, body[:vstart+loc[0]]...), l.id...), body[vstart+loc[1]:]...)
		}
		if l.name != "" {
			b = bytes.ReplaceAll(b, []byte("__NAME__"), []byte(l.name))
		}
		h := http.Header{"Content-Type": {"application/json"}}
		if l.key != "" {
			h.Set("Authorization", "Bearer "+l.key)
		}
		out = append(out, vegeta.Target{Method: "POST", URL: url, Body: b, Header: h})
	}
	return out
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "openloop:", msg)
	os.Exit(2)
}
