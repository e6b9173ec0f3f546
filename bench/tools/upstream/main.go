// Command upstream is the HTTP API behind executeAction in `make bench`: on 127.0.0.1 it answers
// GET /v1/items/{id} with a small JSON document when the request carries the credential header
// (-header: -secret), and 401 otherwise, so a proxy that forgets the credential is seen.
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen address")
	header := flag.String("header", "X-Api-Key", "credential header")
	secret := flag.String("secret", "", "credential value")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(*header) != *secret {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		b := []byte(`{"id":` + strconv.Quote(r.PathValue("id")) + `,"name":"item","price":42,"tags":["a","b"]}`)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
	log.Fatal(http.ListenAndServe(*addr, mux))
}
