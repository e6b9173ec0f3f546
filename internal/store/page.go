package store

import "github.com/plugboard/plugboard/internal/domain"

// pageOf turns the up to first+1 rows of a keyset query into a page's edges: the extra row
// only says that more follow. Cursors are left empty unless need has PartCursors.
func pageOf[R, N, E any](rows []R, first int, need domain.Parts, node func(*R) (N, error), at func(*R, N) cursor,
	edge func(cursor string, n N) E) ([]E, domain.PageInfo, error) {
	edges := make([]E, 0, min(len(rows), first))
	var info domain.PageInfo
	for i := range rows {
		r := &rows[i]
		err := addToPage(&edges, &info, first, need, func() (N, error) { return node(r) }, func(n N) cursor { return at(r, n) }, edge)
		if err != nil {
			return nil, info, err
		}
	}
	return edges, info, nil
}

// lookahead is how many rows a first page reads: one more than it holds tells whether another
// page follows, unless nobody asks.
func lookahead(first int, need domain.Parts) int {
	if need.Has(domain.PartNextPage) {
		return first + 1
	}
	return first
}

// addToPage adds a row to a page of at most first edges, or notes that the page has more:
// the rule of every page, whether its rows come alone (pageOf) or in a batch of connectors.
func addToPage[E any, N any](edges *[]E, info *domain.PageInfo, first int, need domain.Parts,
	node func() (N, error), at func(N) cursor, edge func(cursor string, n N) E) error {
	if len(*edges) == first {
		info.HasNextPage = true
		return nil
	}
	n, err := node()
	if err != nil {
		return err
	}
	if !need.Has(domain.PartCursors) {
		*edges = append(*edges, edge("", n))
		return nil
	}
	cur := at(n).encode()
	*edges = append(*edges, edge(cur, n))
	info.EndCursor = &cur
	return nil
}
