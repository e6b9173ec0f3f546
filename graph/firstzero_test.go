package graph_test

import (
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

// A page of first: 0 (or last: 0) holds no edge, and says whether items follow (or precede) as
// Relay's rule has it: more than zero exist.
func TestEmptyPagesSayWhetherItemsExist(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		empty := h.NewOrg(t)
		id := c.Do(t, `mutation { createConnector(input: {name: "Zero", protocolType: HTTP}) { id } }`, nil).OK(t).String("createConnector.id")
		c.Do(t, `mutation($id: ID!) { createVersion(connectorId: $id, input: {name: "1"}) { id } }`, map[string]any{"id": id}).OK(t)
		c.Do(t, `mutation($id: ID!) { createConnection(connectorId: $id, input: {name: "a"}) { id } }`, map[string]any{"id": id}).OK(t)
		for _, tc := range []struct {
			name, query, path string
			client            *apitest.Client
			want              bool
		}{
			{"Connectors", `{ connectors(first: 0) { edges { cursor } pageInfo { hasNextPage } } }`, "connectors.pageInfo.hasNextPage", c, true},
			{"NoConnectors", `{ connectors(first: 0) { edges { cursor } pageInfo { hasNextPage } } }`, "connectors.pageInfo.hasNextPage", empty, false},
			{"ConnectorsBackward", `{ connectors(last: 0) { edges { cursor } pageInfo { hasPreviousPage } } }`, "connectors.pageInfo.hasPreviousPage", c, true},
			{"AuditEvents", `{ auditEvents(first: 0) { edges { cursor } pageInfo { hasNextPage } } }`, "auditEvents.pageInfo.hasNextPage", c, true},
			{"NestedVersions", `{ connectors(first: 1) { edges { node { versions(first: 0) { edges { cursor } pageInfo { hasNextPage } } } } } }`, "connectors.edges.0.node.versions.pageInfo.hasNextPage", c, true},
			{"NestedConnections", `{ connectors(first: 1) { edges { node { connections(first: 0) { edges { cursor } pageInfo { hasNextPage } } } } } }`, "connectors.edges.0.node.connections.pageInfo.hasNextPage", c, true},
			{"OneConnectorsVersions", `query($id: ID!) { connector(id: $id) { versions(first: 0) { pageInfo { hasNextPage } } } }`, "connector.versions.pageInfo.hasNextPage", c, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.client.Do(t, tc.query, map[string]any{"id": id}).OK(t)
				if r.Get(tc.path) != tc.want {
					t.Errorf("%s = %v, want %v: %s", tc.path, r.Get(tc.path), tc.want, r.Body)
				}
			})
		}
	})
}
