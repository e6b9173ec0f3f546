package store

// readQueries are the texts of the read model's statements that differ between the databases,
// chosen once when the store opens, so that reads never ask which database they run on.
type readQueries struct {
	// inlineNested: a connector page's own statement reads the first pages of its connectors'
	// versions and connections (nested.go: arrays of row values, PostgreSQL only); elsewhere
	// they are batched after the page.
	inlineNested bool
	// versionsOfConnectors and connectionsOfConnectors go before and after the select list.
	versionsOfConnectors, connectionsOfConnectors [2]string
	// categoryMatch is the filter's condition on categories, given the wanted ones.
	categoryMatch string
}

func readQueriesFor(d Dialect) readQueries {
	// oneOf is "expr is one of the values of a slice argument": an array parameter on
	// PostgreSQL (one statement text for any number of values), a list GORM expands elsewhere.
	oneOf := func(expr string) string {
		if d == Postgres {
			return expr + " = ANY(?)"
		}
		return expr + " IN ?"
	}
	q := readQueries{inlineNested: d == Postgres}
	q.versionsOfConnectors = [2]string{`SELECT * FROM (
		SELECT `, `, ROW_NUMBER() OVER (PARTITION BY connector_id ORDER BY created_at DESC, id DESC) AS rn
		FROM connector_versions WHERE ` + oneOf("connector_id") + ` AND organisation_id = ?) ranked
		WHERE rn <= ? ORDER BY connector_id, rn`}
	q.connectionsOfConnectors = [2]string{`SELECT * FROM (
		SELECT `, `,
		       ROW_NUMBER() OVER (PARTITION BY connections.connector_id ORDER BY connections.created_at, connections.id) AS rn
		FROM connections LEFT JOIN connector_versions pv ON pv.id = connections.pinned_version_id
		WHERE ` + oneOf("connections.connector_id") + ` AND connections.organisation_id = ?) ranked
		WHERE rn <= ? ORDER BY 2, rn`}
	if d == Postgres {
		q.categoryMatch = " AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(connectors.categories) AS c(v) WHERE " + oneOf("lower(c.v)") + ")"
	} else {
		q.categoryMatch = " AND EXISTS (SELECT 1 FROM json_each(connectors.categories) AS c WHERE " + oneOf("lower(c.value)") + ")"
	}
	return q
}
