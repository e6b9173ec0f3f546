// Command hookload is the webhook half of `make bench-hooks`: -c senders in a closed loop POST
// GitHub-signed deliveries (HMAC-SHA256 of the body, sha256=<hex>, a fresh X-GitHub-Delivery
// each) to one hook for -d, and every answer must be 202. Prints one line:
//
//	RESULT deliveries=… rate=… p50_ms=… p99_ms=… max_ms=… errors=…
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "the hook's URL (Connection.webhookURL)")
	secret := flag.String("secret", "", "the trigger's secret")
	conc := flag.Int("c", 16, "concurrent senders")
	dur := flag.Duration("d", 15*time.Second, "duration")
	size := flag.Int("size", 1024, "body bytes")
	flag.Parse()
	if *url == "" || *secret == "" {
		fmt.Fprintln(os.Stderr, "hookload: -url and -secret are required")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}
	filler := bytes.Repeat([]byte("x"), max(*size-64, 0))
	var (
		seq    atomic.Int64
		errs   atomic.Int64
		mu     sync.Mutex
		lat    []time.Duration
		wg     sync.WaitGroup
		stopAt = time.Now().Add(*dur)
	)
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stopAt) {
				n := seq.Add(1)
				body := fmt.Appendf(nil, `{"seq":%d,"action":"opened","pad":"%s"}`, n, filler)
				mac := hmac.New(sha256.New, []byte(*secret))
				mac.Write(body)
				req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-GitHub-Event", "pull_request")
				req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d-%d", start.UnixNano(), n))
				req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Printf("RESULT deliveries=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d\n",
		len(lat), float64(len(lat))/elapsed.Seconds(), pct(0.50), pct(0.99), pct(1), errs.Load())
	if errs.Load() > 0 {
		os.Exit(1)
	}
}
