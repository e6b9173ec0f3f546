package store

import "github.com/plugboard/plugboard/internal/domain"

// pageOf turns the up to first+1 rows of a keyset query into a page's nodes and cursors: the
// extra row only says that more follow. Cursors are left empty unless need has PartCursors.
func pageOf[R any, N any](rows []R, first int, need domain.Parts, node func(*R) (N, error), at func(*R, N) cursor) ([]N, []string, domain.PageInfo, error) {
	var info domain.PageInfo
	if len(rows) > first {
		rows = rows[:first]
		info.HasNextPage = true
	}
	nodes := make([]N, 0, len(rows))
	cursors := make([]string, 0, len(rows))
	for i := range rows {
		n, err := node(&rows[i])
		if err != nil {
			return nil, nil, info, err
		}
		nodes = append(nodes, n)
		cur := ""
		if need.Has(domain.PartCursors) {
			cur = at(&rows[i], n).encode()
		}
		cursors = append(cursors, cur)
	}
	if len(cursors) > 0 && need.Has(domain.PartCursors) {
		info.EndCursor = &cursors[len(cursors)-1]
	}
	return nodes, cursors, info, nil
}

// addToFirstPage adds a row of a batch (rows ordered by connector, at most first+1 each) to
// its connector's first page, or notes that the page has more.
func addToFirstPage[E any, N any](edges *[]E, info *domain.PageInfo, first int, need domain.Parts,
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
