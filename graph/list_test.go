package graph_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/plugboard/plugboard/internal/apitest"
)

const listConnectors = `query($first: Int, $after: String, $filter: ConnectorFilter, $order: ConnectorOrder) {
  connectors(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`

// pageAll walks every page of size n and returns the names in order.
func pageAll(t *testing.T, c *apitest.Client, n int, filter map[string]any, order string) ([]string, int) {
	t.Helper()
	var names []string
	var after any
	total := -1
	for pages := 0; pages < 50; pages++ {
		vars := map[string]any{"first": n, "after": after, "filter": filter}
		if order != "" {
			vars["order"] = order
		}
		r := c.Do(t, listConnectors, vars).OK(t)
		total = r.Int("connectors.totalCount")
		for _, e := range r.List("connectors.edges") {
			names = append(names, e.(map[string]any)["node"].(map[string]any)["name"].(string))
		}
		if r.Get("connectors.pageInfo.hasNextPage") != true {
			return names, total
		}
		after = r.String("connectors.pageInfo.endCursor")
	}
	t.Fatal("pagination does not end")
	return nil, 0
}

func TestConnectorsPaginationOrderFilter(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		other := h.NewOrg(t)
		mustCreate(t, other, map[string]any{"name": "Foreign", "protocolType": "HTTP", "categories": []any{"crm"}})
		specs := []struct {
			name, protocol string
			cats           []any
		}{
			{"delta", "HTTP", []any{"crm"}},
			{"Alpha", "HTTP", []any{"Payments"}},
			{"charlie_50%", "BIGQUERY", []any{"warehouse"}},
			{"bravo", "HTTP", []any{"crm", "payments"}},
			{"Echo", "BIGQUERY", nil},
		}
		for _, s := range specs {
			mustCreate(t, c, map[string]any{"name": s.name, "protocolType": s.protocol, "categories": s.cats})
			time.Sleep(time.Millisecond)
		}
		// Touch "bravo" so UPDATED_AT_DESC differs from creation order.
		bravo := c.Do(t, `{ connectors(filter: {nameContains: "BRAV"}) { edges { node { id } } } }`, nil).OK(t).String("connectors.edges.0.node.id")
		c.Do(t, updateConnector, map[string]any{"id": bravo, "input": map[string]any{"name": "bravo", "protocolType": "HTTP", "categories": []any{"crm", "payments"}}}).OK(t)

		orders := []struct {
			order string
			want  []string
		}{
			{"", []string{"Alpha", "bravo", "charlie_50%", "delta", "Echo"}},
			{"NAME_ASC", []string{"Alpha", "bravo", "charlie_50%", "delta", "Echo"}},
			{"NAME_DESC", []string{"Echo", "delta", "charlie_50%", "bravo", "Alpha"}},
			{"CREATED_AT_ASC", []string{"delta", "Alpha", "charlie_50%", "bravo", "Echo"}},
			{"UPDATED_AT_DESC", []string{"bravo", "Echo", "charlie_50%", "Alpha", "delta"}},
		}
		for _, o := range orders {
			for _, size := range []int{1, 2, 5, 100} {
				t.Run(fmt.Sprintf("%s/first=%d", o.order, size), func(t *testing.T) {
					got, total := pageAll(t, c, size, nil, o.order)
					if !slices.Equal(got, o.want) || total != 5 {
						t.Errorf("got %v (total %d), want %v", got, total, o.want)
					}
				})
			}
		}
		filters := []struct {
			name   string
			filter map[string]any
			want   []string
		}{
			{"NameContainsCaseInsensitive", map[string]any{"nameContains": "HAR"}, []string{"charlie_50%"}},
			{"NameContainsEscapesLike", map[string]any{"nameContains": "_50%"}, []string{"charlie_50%"}},
			{"NameContainsPercentOnly", map[string]any{"nameContains": "%"}, []string{"charlie_50%"}},
			{"CategoriesAnyOf", map[string]any{"categories": []any{"payments", "warehouse"}}, []string{"Alpha", "bravo", "charlie_50%"}},
			{"ProtocolType", map[string]any{"protocolType": "BIGQUERY"}, []string{"charlie_50%", "Echo"}},
			{"Combined", map[string]any{"categories": []any{"crm"}, "protocolType": "HTTP", "nameContains": "a"}, []string{"bravo", "delta"}},
			{"NoMatch", map[string]any{"nameContains": "zzz"}, nil},
		}
		for _, f := range filters {
			t.Run(f.name, func(t *testing.T) {
				got, total := pageAll(t, c, 2, f.filter, "")
				if !slices.Equal(got, f.want) || total != len(f.want) {
					t.Errorf("got %v (total %d), want %v", got, total, f.want)
				}
			})
		}
		t.Run("ErrFirstTooLarge", func(t *testing.T) {
			c.Do(t, listConnectors, map[string]any{"first": 201}).ExpectError(t, "BAD_USER_INPUT", "first")
			c.Do(t, listConnectors, map[string]any{"first": -1}).ExpectError(t, "BAD_USER_INPUT", "first")
		})
		t.Run("ErrCursor", func(t *testing.T) {
			c.Do(t, listConnectors, map[string]any{"after": "garbage"}).ExpectError(t, "BAD_USER_INPUT", "after")
			end := c.Do(t, listConnectors, map[string]any{"first": 1, "order": "NAME_ASC"}).OK(t).String("connectors.pageInfo.endCursor")
			c.Do(t, listConnectors, map[string]any{"after": end, "order": "CREATED_AT_ASC"}).ExpectError(t, "BAD_USER_INPUT", "after")
		})
		t.Run("FirstZero", func(t *testing.T) {
			r := c.Do(t, listConnectors, map[string]any{"first": 0}).OK(t)
			if len(r.List("connectors.edges")) != 0 || r.Int("connectors.totalCount") != 5 {
				t.Errorf("first: 0 must return no edges and the count: %s", r.Body)
			}
		})
	})
}
