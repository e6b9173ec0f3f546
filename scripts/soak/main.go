// Command soak drives a running Plugboard with a mix of reads and writes from many connections
// for a set time and reports errors, latency percentiles and the server's memory at the start
// and the end. It is not part of `make test`: run it with scripts/soak.sh.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type client struct {
	url, key string
	http     *http.Client
}

type response struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (c *client) do(query string, vars map[string]any) (*response, int, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	var r response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		return nil, res.StatusCode, err
	}
	return &r, res.StatusCode, nil
}

func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "?"
}

func main() {
	url := flag.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint")
	key := flag.String("key", os.Getenv("PLUGBOARD_KEY"), "API key with connectors:read and connectors:write")
	duration := flag.Duration("duration", time.Minute, "how long to run")
	conns := flag.Int("conns", 64, "concurrent connections")
	connectors := flag.Int("connectors", 200, "connectors to create first")
	writes := flag.Float64("writes", 0.3, "share of writes")
	pid := flag.Int("pid", 0, "server pid, for its RSS")
	flag.Parse()
	c := &client{url: *url, key: *key, http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns}}}

	run := fmt.Sprintf("%x", time.Now().UnixNano())
	var ids []string
	for i := 0; i < *connectors; i++ {
		r, _, err := c.do(`mutation($n: String!) { createConnector(input: {name: $n, protocolType: HTTP, baseURL: "https://api.example.com",
		  connectionVariables: [{name: "Region", value: "eu"}]}) { id } }`, map[string]any{"n": fmt.Sprintf("soak %s %d", run, i)})
		if err != nil || len(r.Errors) > 0 {
			fmt.Fprintf(os.Stderr, "setup failed: %v %+v\n", err, r)
			os.Exit(1)
		}
		id := r.Data["createConnector"].(map[string]any)["id"].(string)
		ids = append(ids, id)
		v, _, _ := c.do(`mutation($c: ID!) { createVersion(connectorId: $c, input: {name: "1", actions: [{name: "list", method: GET, path: "/items"}]}) { id } }`, map[string]any{"c": id})
		c.do(`mutation($v: ID!) { publishVersion(id: $v) { id } }`, map[string]any{"v": v.Data["createVersion"].(map[string]any)["id"]})
		c.do(`mutation($c: ID!) { createConnection(connectorId: $c, input: {name: "main"}) { id } }`, map[string]any{"c": id})
	}
	startRSS := rss(*pid)
	fmt.Printf("setup: %d connectors; server RSS at start %s\n", len(ids), startRSS)

	type stats struct {
		lat                      []time.Duration
		ok, conflicts, errs, net int
		firstErr                 string
	}
	all := make([]stats, *conns)
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func(s *stats) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				id := ids[rand.IntN(len(ids))]
				var query string
				vars := map[string]any{"id": id}
				switch p := rand.Float64(); {
				case p < *writes/2:
					query = `mutation($id: ID!, $u: String!) { patchConnectorVariables(connectorId: $id, dynamicProperties: $u) { revision } }`
					vars["u"] = fmt.Sprintf(`{"Tick":"%d"}`, rand.IntN(1000))
				case p < *writes:
					query = `mutation($id: ID!, $u: String!) { updateConnector(id: $id, input: {name: $u, protocolType: HTTP, baseURL: "https://api.example.com/v2"}) { revision } }`
					vars["u"] = "soak " + run + " upd " + id
				case p < 0.85:
					query = `query($id: ID!) { connector(id: $id) { id name baseURL revision versions { edges { node { name isLatest } } } connections { edges { node { name variables { name value } } } } } }`
				default:
					query = `{ connectors(first: 20, orderBy: UPDATED_AT_DESC) { totalCount edges { node { id name revision } } } }`
					delete(vars, "id")
				}
				start := time.Now()
				r, status, err := c.do(query, vars)
				s.lat = append(s.lat, time.Since(start))
				switch {
				case err != nil:
					s.net++
					if s.firstErr == "" {
						s.firstErr = err.Error()
					}
				case status != 200 || len(r.Errors) > 0:
					if len(r.Errors) > 0 && r.Errors[0].Extensions["code"] == "CONFLICT" {
						s.conflicts++
						continue
					}
					s.errs++
					if s.firstErr == "" {
						b, _ := json.Marshal(r)
						s.firstErr = fmt.Sprintf("HTTP %d %s", status, b)
					}
				default:
					s.ok++
				}
			}
		}(&all[w])
	}
	wg.Wait()
	var total stats
	for _, s := range all {
		total.lat = append(total.lat, s.lat...)
		total.ok += s.ok
		total.conflicts += s.conflicts
		total.errs += s.errs
		total.net += s.net
		if total.firstErr == "" {
			total.firstErr = s.firstErr
		}
	}
	slices.Sort(total.lat)
	pct := func(p float64) time.Duration {
		if len(total.lat) == 0 {
			return 0
		}
		return total.lat[min(len(total.lat)-1, int(float64(len(total.lat))*p))]
	}
	n := len(total.lat)
	fmt.Printf("requests %d in %s (%.0f req/s, %d connections, %.0f%% writes)\n", n, *duration, float64(n)/duration.Seconds(), *conns, *writes*100)
	fmt.Printf("ok %d, conflicts %d, errors %d, network errors %d\n", total.ok, total.conflicts, total.errs, total.net)
	fmt.Printf("latency p50 %s, p90 %s, p99 %s, max %s\n", pct(.5), pct(.9), pct(.99), pct(1))
	fmt.Printf("server RSS: start %s, end %s\n", startRSS, rss(*pid))
	if total.firstErr != "" {
		fmt.Printf("first error: %s\n", total.firstErr)
	}
	if total.errs+total.net > 0 {
		os.Exit(1)
	}
}
