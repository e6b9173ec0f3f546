package graph_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// pageOf is one page of a list: its ids (from edges) and PageInfo.
type pageOf struct {
	ids, cursors           []string
	hasNext, hasPrevious   bool
	startCursor, endCursor any
}

func readPage(t *testing.T, c *apitest.Client, query, path string, vars map[string]any) pageOf {
	t.Helper()
	r := c.Do(t, query, vars).OK(t)
	var p pageOf
	for _, e := range r.List(path + ".edges") {
		m := e.(map[string]any)
		p.ids = append(p.ids, m["node"].(map[string]any)["id"].(string))
		p.cursors = append(p.cursors, m["cursor"].(string))
	}
	p.hasNext = r.Get(path+".pageInfo.hasNextPage") == true
	p.hasPrevious = r.Get(path+".pageInfo.hasPreviousPage") == true
	p.startCursor, p.endCursor = r.Get(path+".pageInfo.startCursor"), r.Get(path+".pageInfo.endCursor")
	if len(p.cursors) == 0 {
		if p.startCursor != nil || p.endCursor != nil {
			t.Fatalf("an empty page has null cursors: %s", r.Body)
		}
	} else if p.startCursor != p.cursors[0] || p.endCursor != p.cursors[len(p.cursors)-1] {
		t.Fatalf("startCursor and endCursor must be the first and last edges' cursors: %s", r.Body)
	}
	return p
}

const pageFields = `edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`

// Paging backward with last/before visits the forward pages' items in reverse, through every
// order and every nested list, with hasPreviousPage and startCursor telling where it stands.
func TestBackwardPaging(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		var connector string
		for _, name := range []string{"delta", "Alpha", "émile", "Eagle", "zulu", "Bravo", "charlie"} {
			connector = mustCreate(t, c, map[string]any{"name": name, "protocolType": "HTTP"}).String("createConnector.id")
		}
		// Touch one so UPDATED_AT_DESC differs from creation order.
		first := c.Do(t, `{ connectors(first: 1) { nodes { id } } }`, nil).OK(t).String("connectors.nodes.0.id")
		c.Do(t, updateConnector, map[string]any{"id": first, "input": map[string]any{"name": "Alpha", "protocolType": "BIGQUERY"}}).OK(t)
		for i := range 5 {
			c.Do(t, createConnection, map[string]any{"c": connector, "input": map[string]any{"name": fmt.Sprint("conn", i)}}).OK(t)
			c.Do(t, createVersion, map[string]any{"c": connector, "input": map[string]any{"name": fmt.Sprint("v", i)}}).OK(t)
		}

		type list struct {
			name, query, path string
			vars              map[string]any
		}
		var lists []list
		for _, order := range []string{"NAME_ASC", "NAME_DESC", "UPDATED_AT_DESC", "CREATED_AT_ASC"} {
			lists = append(lists, list{"connectors " + order,
				`query($first: Int, $after: String, $last: Int, $before: String, $order: ConnectorOrder) {
				  connectors(first: $first, after: $after, last: $last, before: $before, orderBy: $order) { ` + pageFields + ` } }`,
				"connectors", map[string]any{"order": order}})
		}
		for _, field := range []string{"connections", "versions"} {
			lists = append(lists, list{field, `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
			  connector(id: $id) { ` + field + `(first: $first, after: $after, last: $last, before: $before) { ` + pageFields + ` } } }`,
				"connector." + field, map[string]any{"id": connector}})
		}
		lists = append(lists, list{"auditEvents", `query($first: Int, $after: String, $last: Int, $before: String) {
		  auditEvents(first: $first, after: $after, last: $last, before: $before) { ` + pageFields + ` } }`, "auditEvents", map[string]any{}})

		with := func(base map[string]any, extra ...any) map[string]any {
			m := map[string]any{}
			for k, v := range base {
				m[k] = v
			}
			for i := 0; i < len(extra); i += 2 {
				m[extra[i].(string)] = extra[i+1]
			}
			return m
		}
		for _, l := range lists {
			t.Run(l.name, func(t *testing.T) {
				all := readPage(t, c, l.query, l.path, with(l.vars, "first", 200))
				if len(all.ids) < 5 || all.hasNext || all.hasPrevious {
					t.Fatalf("the whole list: %+v", all)
				}
				// Forward in pages of 2.
				var forward []string
				var after any
				for {
					p := readPage(t, c, l.query, l.path, with(l.vars, "first", 2, "after", after))
					if p.hasPrevious != (after != nil) {
						t.Fatalf("forward: hasPreviousPage must say whether the page starts after a cursor: %+v", p)
					}
					forward = append(forward, p.ids...)
					if !p.hasNext {
						break
					}
					after = p.endCursor
				}
				// Backward in pages of 2.
				var backward []string
				var before any
				for {
					p := readPage(t, c, l.query, l.path, with(l.vars, "last", 2, "before", before))
					if p.hasNext != (before != nil) {
						t.Fatalf("backward: hasNextPage must say whether the page ends before a cursor: %+v", p)
					}
					backward = append(slices.Clone(p.ids), backward...)
					if !p.hasPrevious {
						if len(p.ids) == 0 {
							t.Fatal("backward paging ended on an empty page")
						}
						break
					}
					before = p.startCursor
				}
				if !slices.Equal(forward, all.ids) || !slices.Equal(backward, all.ids) {
					t.Fatalf("pages disagree:\nall      %v\nforward  %v\nbackward %v", all.ids, forward, backward)
				}
				// A window between two cursors, from either end.
				between := all.ids[1 : len(all.ids)-1]
				for _, args := range [][]any{{"first", 200}, {"last", 200}} {
					p := readPage(t, c, l.query, l.path, with(l.vars, args[0], args[1], "after", all.cursors[0], "before", all.cursors[len(all.cursors)-1]))
					if !slices.Equal(p.ids, between) {
						t.Errorf("%s between the first and last cursors: %v, want %v", args[0], p.ids, between)
					}
				}
				empty := readPage(t, c, l.query, l.path, with(l.vars, "last", 0))
				if len(empty.ids) != 0 {
					t.Errorf("last: 0 must be empty: %+v", empty)
				}
				c.Do(t, l.query, with(l.vars, "first", 1, "last", 1)).ExpectError(t, "BAD_USER_INPUT", "last")
				c.Do(t, l.query, with(l.vars, "last", 201)).ExpectError(t, "BAD_USER_INPUT", "last")
				c.Do(t, l.query, with(l.vars, "last", -1)).ExpectError(t, "BAD_USER_INPUT", "last")
				c.Do(t, l.query, with(l.vars, "last", 1, "before", "not a cursor")).ExpectError(t, "BAD_USER_INPUT", "before")
			})
		}
		// A cursor of one order is no cursor of another.
		desc := readPage(t, c, lists[1].query, "connectors", with(lists[1].vars, "first", 1))
		c.Do(t, lists[0].query, with(lists[0].vars, "last", 1, "before", desc.endCursor)).ExpectError(t, "BAD_USER_INPUT", "before")
	})
}
