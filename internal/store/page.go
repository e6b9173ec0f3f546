package store

import (
	"slices"
	"strings"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// keyset is a list's order: its columns, the last of them the id that breaks ties, all sorted
// in one direction. Pages are windows of it between two cursors.
type keyset struct {
	columns    []string
	descending bool
}

// orderBy is the ORDER BY of a page: the list's order, or its reverse for a page read
// backward (last/before), whose rows are put back in list order afterwards (window.finish).
func (k keyset) orderBy(backward bool) string {
	dir := " ASC"
	if k.descending != backward {
		dir = " DESC"
	}
	var b strings.Builder
	for i, c := range k.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c)
		b.WriteString(dir)
	}
	return b.String()
}

// bound is the condition that keeps the rows after (or, with before, before) a cursor in list
// order: a row-value comparison that the list's index serves.
func (k keyset) bound(before bool) string {
	op := " > "
	if k.descending != before {
		op = " < "
	}
	return "(" + strings.Join(k.columns, ", ") + ")" + op + "(" + strings.TrimSuffix(strings.Repeat("?, ", len(k.columns)), ", ") + ")"
}

// window is a page request with its cursors decoded.
type window struct {
	page          domain.PageRequest
	after, before *cursor
}

// openWindow decodes the request's cursors, issued for order.
func openWindow(page domain.PageRequest, order domain.ConnectorOrder) (window, error) {
	w := window{page: page}
	var err error
	if w.after, err = decodeCursor("after", page.After, order); err != nil {
		return w, err
	}
	w.before, err = decodeCursor("before", page.Before, order)
	return w, err
}

// conditions are the window's bounds on k, with their arguments (values gives a cursor's).
func (w window) conditions(k keyset, values func(*cursor) ([]any, error)) ([]string, []any, error) {
	var where []string
	var args []any
	for _, b := range []struct {
		c      *cursor
		before bool
	}{{w.after, false}, {w.before, true}} {
		if b.c == nil {
			continue
		}
		v, err := values(b.c)
		if err != nil {
			return nil, nil, err
		}
		where = append(where, k.bound(b.before))
		args = append(args, v...)
	}
	return where, args, nil
}

// lookahead is how many rows the window reads: backward, the extra row says whether items
// precede the page, which is not a part anyone can leave out.
func (w window) lookahead(need readmodel.Parts) int {
	if w.page.Backward {
		return w.page.First + 1
	}
	return lookahead(w.page.First, need)
}

// timeAndID are the values of a cursor on (time, id) columns.
func timeAndID(c *cursor) ([]any, error) { return []any{c.Time, c.ID}, nil }

// finish puts a page read backward back in list order and completes its PageInfo. Read
// forward, items precede the page when it starts after a cursor; read backward, the extra row
// said whether items precede it, and items follow when it ends before a cursor (Relay's
// "may return true if it can do so efficiently", done both ways).
func finish[E any](w window, edges []E, info *domain.PageInfo) {
	if !w.page.Backward {
		info.HasPreviousPage = w.after != nil
		return
	}
	slices.Reverse(edges)
	info.StartCursor, info.EndCursor = info.EndCursor, info.StartCursor
	info.HasPreviousPage = info.HasNextPage
	info.HasNextPage = w.before != nil
}

// pageOf turns the up to first+1 rows of a keyset query into a page's edges: the extra row
// only says that more follow. Cursors are left empty unless need has PartCursors.
func pageOf[R, N, E any](rows []R, first int, need readmodel.Parts, node func(*R) (N, error), at func(*R, N) cursor,
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
func lookahead(first int, need readmodel.Parts) int {
	if need.Has(readmodel.PartNextPage) {
		return first + 1
	}
	return first
}

// addToPage adds a row to a page of at most first edges, or notes that the page has more:
// the rule of every page, whether its rows come alone (pageOf) or in a batch of connectors.
func addToPage[E any, N any](edges *[]E, info *domain.PageInfo, first int, need readmodel.Parts,
	node func() (N, error), at func(N) cursor, edge func(cursor string, n N) E) error {
	if len(*edges) == first {
		info.HasNextPage = true
		return nil
	}
	n, err := node()
	if err != nil {
		return err
	}
	if !need.Has(readmodel.PartCursors) {
		*edges = append(*edges, edge("", n))
		return nil
	}
	cur := at(n).encode()
	*edges = append(*edges, edge(cur, n))
	if info.StartCursor == nil {
		info.StartCursor = &cur
	}
	info.EndCursor = &cur
	return nil
}
