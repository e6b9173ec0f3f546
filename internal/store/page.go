package store

import "github.com/plugboard/plugboard/internal/domain"

// pageOf turns the up to first+1 rows of a keyset query into a page's nodes and cursors: the
// extra row only says that more follow.
func pageOf[R any, N any](rows []R, first int, node func(*R) (N, error), at func(*R, N) cursor) ([]N, []string, domain.PageInfo, error) {
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
		cursors = append(cursors, at(&rows[i], n).encode())
	}
	if len(cursors) > 0 {
		info.EndCursor = &cursors[len(cursors)-1]
	}
	return nodes, cursors, info, nil
}
