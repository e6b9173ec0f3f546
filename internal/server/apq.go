package server

import (
	"context"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// persistedQueries holds automatic persisted queries by hash, bounded by their total size as
// well as their number: any caller can store a query, and a query can be as large as a body.
type persistedQueries struct {
	mu       sync.Mutex
	queries  *lru.Cache[string, string]
	bytes    int
	maxBytes int
}

func newPersistedQueries(entries, maxBytes int) *persistedQueries {
	p := &persistedQueries{maxBytes: maxBytes}
	p.queries, _ = lru.NewWithEvict(entries, func(_ string, query string) { p.bytes -= len(query) })
	return p
}

func (p *persistedQueries) Get(_ context.Context, hash string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queries.Get(hash)
}

// Add keeps query, evicting the least recently used until the total fits; a query larger than
// a quarter of the total is not kept (its client sends it again with the hash).
func (p *persistedQueries) Add(_ context.Context, hash, query string) {
	if len(query) > p.maxBytes/4 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.queries.Peek(hash); ok {
		return
	}
	p.queries.Add(hash, query)
	p.bytes += len(query)
	for p.bytes > p.maxBytes {
		p.queries.RemoveOldest()
	}
}
