package graph

import (
	"github.com/plugboard/plugboard/graph/scalars"
	"github.com/plugboard/plugboard/internal/domain"
)

// The writers below follow directTypes field by field; a field missing here stops the direct
// run (and gqlgen answers), so the two cannot silently disagree.

func (x *directRun) connectors(n *node) {
	page, ok := x.pageArgs(n)
	if !ok {
		return
	}
	args := x.args(n)
	var order domain.ConnectorOrder
	// Validation has checked enum values against the schema, whose names are the domain's.
	if v, ok := args["orderBy"].(string); ok {
		order = domain.ConnectorOrder(v)
	} else if args["orderBy"] != nil {
		x.failed = true
		return
	}
	filter, ok := x.connectorFilter(args["filter"])
	if !ok {
		return
	}
	nested := x.nestedFirst(n)
	if x.failed {
		return
	}
	result, err := x.r.ConnectorService.FindConnectorsWithLists(x.ctx, x.org, filter, order, page, x.need, nested)
	if !x.check(err) {
		return
	}
	registerGroup(x.ctx, x.org, result, x.need, nested)
	writePage(x, n.children, "ConnectorConnection", "ConnectorEdge", result.Edges, result.PageInfo,
		func(e domain.ConnectorEdge) (string, *domain.Connector) { return e.Cursor, e.Node },
		x.connector,
		func() (int, error) { return x.r.ConnectorService.CountConnectors(x.ctx, x.org, filter) })
}

// nestedFirst finds the first pages of versions and connections that a connector page's
// connectors select, so that the page read includes them. When several selections ask for
// different pages, the first is read with the page and the others are batched after it.
func (x *directRun) nestedFirst(page *node) domain.NestedFirst {
	nested := domain.NoNested
	for _, c := range page.children {
		var fields []*node
		switch c.name {
		case "nodes":
			fields = c.children
		case "edges":
			for _, e := range c.children {
				if e.name == "node" {
					fields = e.children
				}
			}
		}
		for _, f := range fields {
			size := &nested.Versions
			switch f.name {
			case "versions":
			case "connections":
				size = &nested.Connections
			default:
				continue
			}
			if *size >= 0 {
				continue
			}
			req, ok := x.pageArgs(f)
			if !ok {
				return nested
			}
			if req.Plain() {
				*size = req.First
			}
		}
	}
	return nested
}

// connectorFilter reads the filter input the way gqlgen's unmarshaller does for valid input;
// anything else is left to gqlgen.
func (x *directRun) connectorFilter(v any) (domain.ConnectorFilter, bool) {
	var f domain.ConnectorFilter
	if v == nil {
		return f, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		x.failed = true
		return f, false
	}
	for k, val := range m {
		if val == nil {
			continue
		}
		var err error
		switch k {
		case "nameContains":
			f.NameContains, err = scalars.UnmarshalString(val)
		case "protocolType":
			s, isString := val.(string)
			if !isString {
				x.failed = true
				return f, false
			}
			f.ProtocolType = domain.ProtocolType(s)
		case "categories":
			list, isList := val.([]any)
			if !isList {
				x.failed = true
				return f, false
			}
			f.Categories = make([]string, len(list))
			for i := range list {
				if f.Categories[i], err = scalars.UnmarshalString(list[i]); err != nil {
					break
				}
			}
		default:
			x.failed = true
		}
		if !x.check(err) {
			return f, false
		}
	}
	return f, true
}

// writePage writes a Relay connection of any node type.
func writePage[E any, N any](x *directRun, sel []*node, typ, edgeTyp string, edges []E, info domain.PageInfo,
	parts func(E) (string, N), writeNode func(N, []*node), total func() (int, error)) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str(typ)
		case "edges":
			x.list(len(edges), func(i int) {
				cursor, item := parts(edges[i])
				x.object(n.children, func(f *node) {
					switch f.name {
					case "__typename":
						x.str(edgeTyp)
					case "cursor":
						x.str(cursor)
					case "node":
						writeNode(item, f.children)
					default:
						x.unknown()
					}
				})
			})
		case "nodes":
			x.list(len(edges), func(i int) {
				_, item := parts(edges[i])
				writeNode(item, n.children)
			})
		case "pageInfo":
			x.object(n.children, func(f *node) {
				switch f.name {
				case "__typename":
					x.str("PageInfo")
				case "hasNextPage":
					x.boolean(info.HasNextPage)
				case "hasPreviousPage":
					x.boolean(info.HasPreviousPage)
				case "startCursor":
					x.optStr(info.StartCursor)
				case "endCursor":
					x.optStr(info.EndCursor)
				default:
					x.unknown()
				}
			})
		case "totalCount":
			count, err := total()
			if x.check(err) {
				x.integer(count)
			}
		default:
			x.unknown()
		}
	})
}

// oneConnector writes connector(id); when it asks for the first page of its versions, both
// are read together, and the versions are recorded as the connector's batch load (batch.go).
func (x *directRun) oneConnector(id string, sel []*node) {
	for _, n := range sel {
		if n.name != "versions" {
			continue
		}
		req, ok := x.pageArgs(n)
		if !ok || !req.Plain() {
			break
		}
		c, versions, err := x.r.VersionService.FindConnectorWithVersions(x.ctx, x.org, id, req.First, x.need)
		if !x.check(err) {
			return
		}
		page := &domain.ConnectorPage{Edges: []domain.ConnectorEdge{{Node: c}}, Versions: map[string]*domain.VersionPage{c.ID: versions}}
		registerGroup(x.ctx, x.org, page, x.need, domain.NestedFirst{Versions: req.First, Connections: -1})
		x.connector(c, sel)
		return
	}
	c, err := x.r.ConnectorService.FindConnector(x.ctx, x.org, id)
	if x.check(err) {
		x.connector(c, sel)
	}
}

func (x *directRun) connector(c *domain.Connector, sel []*node) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("Connector")
		case "id":
			x.str(c.ID)
		case "organisationId":
			x.str(c.OrganisationID)
		case "name":
			x.str(c.Name)
		case "description":
			x.optStr(c.Description)
		case "protocolType":
			x.str(string(c.ProtocolType))
		case "documentationURL":
			x.optStr(c.DocumentationURL)
		case "iconURL":
			x.optStr(c.IconURL)
		case "baseURL":
			x.optStr(c.BaseURL)
		case "categories":
			x.strs(c.Categories)
		case "revision":
			x.integer(c.Revision)
		case "createdAt":
			x.timestamp(c.CreatedAt)
		case "updatedAt":
			x.timestamp(c.UpdatedAt)
		case "authSchemeConfigs":
			x.list(len(c.AuthSchemeConfigs), func(i int) { x.authSchemeConfig(&c.AuthSchemeConfigs[i], n.children) })
		case "connectionVariables":
			x.variables(c.ConnectionVariables, n.children)
		case "versions":
			x.versionsOf(c, n)
		case "connections":
			x.connectionsOf(c, n)
		case "version":
			name, ok := x.stringArg(n, "name")
			if !ok {
				return
			}
			v, err := x.r.VersionService.FindVersionByName(x.ctx, c.OrganisationID, c.ID, name)
			if x.check(err) {
				x.version(v, n.children)
			}
		default:
			x.unknown()
		}
	})
}

// versionsOf writes a connector's versions; those of a page's connectors load for the whole
// page at once (batch.go), as they do for gqlgen's resolvers.
func (x *directRun) versionsOf(c *domain.Connector, n *node) {
	req, ok := x.pageArgs(n)
	if !ok {
		return
	}
	page, err := x.r.versionsPage(x.ctx, c, req, x.need)
	if !x.check(err) {
		return
	}
	writePage(x, n.children, "ConnectorVersionConnection", "ConnectorVersionEdge", page.Edges, page.PageInfo,
		func(e domain.VersionEdge) (string, *domain.ConnectorVersion) { return e.Cursor, e.Node },
		x.version,
		func() (int, error) { return x.r.VersionService.CountVersions(x.ctx, x.org, c.ID) })
}

// connectionsOf is versionsOf for connections.
func (x *directRun) connectionsOf(c *domain.Connector, n *node) {
	req, ok := x.pageArgs(n)
	if !ok {
		return
	}
	page, err := x.r.connectionsPage(x.ctx, c, req, x.need)
	if !x.check(err) {
		return
	}
	writePage(x, n.children, "ConnectionConnection", "ConnectionEdge", page.Edges, page.PageInfo,
		func(e domain.ConnectionEdge) (string, *domain.Connection) { return e.Cursor, e.Node },
		x.connection,
		func() (int, error) { return x.r.ConnectionService.CountConnections(x.ctx, x.org, c.ID) })
}

func (x *directRun) version(v *domain.ConnectorVersion, sel []*node) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("ConnectorVersion")
		case "id":
			x.str(v.ID)
		case "connectorId":
			x.str(v.ConnectorID)
		case "name":
			x.str(v.Name)
		case "description":
			x.optStr(v.Description)
		case "actions":
			x.list(len(v.Actions), func(i int) { x.action(&v.Actions[i], n.children) })
		case "isLatest":
			x.boolean(v.IsLatest)
		case "isDefault":
			x.boolean(v.IsDefault)
		case "isPublished":
			x.boolean(v.IsPublished())
		case "createdAt":
			x.timestamp(v.CreatedAt)
		case "updatedAt":
			x.timestamp(v.UpdatedAt)
		case "publishedAt":
			x.optTimestamp(v.PublishedAt)
		default:
			x.unknown()
		}
	})
}

func (x *directRun) action(a *domain.HTTPAction, sel []*node) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("HttpAction")
		case "name":
			x.str(a.Name)
		case "purpose":
			x.str(a.Purpose)
		case "description":
			x.optStr(a.Description)
		case "method":
			x.str(string(a.Method))
		case "path":
			x.str(a.Path)
		case "headers":
			x.list(len(a.Headers), func(i int) { x.pair("HttpHeader", a.Headers[i].Name, a.Headers[i].Value, n.children) })
		case "bodyTemplate":
			x.optStr(a.BodyTemplate)
		case "sampleRequestData":
			x.optStr(a.SampleRequestData)
		default:
			x.unknown()
		}
	})
}

func (x *directRun) variables(vars []domain.Variable, sel []*node) {
	x.list(len(vars), func(i int) { x.pair("ConnectionVariable", vars[i].Name, vars[i].Value, sel) })
}

// pair writes a name/value object: a variable or a header.
func (x *directRun) pair(typ, name, value string, sel []*node) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str(typ)
		case "name":
			x.str(name)
		case "value":
			x.str(value)
		default:
			x.unknown()
		}
	})
}

func (x *directRun) connection(c *domain.Connection, sel []*node) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("Connection")
		case "id":
			x.str(c.ID)
		case "connectorId":
			x.str(c.ConnectorID)
		case "name":
			x.str(c.Name)
		case "variables":
			x.variables(c.Variables, n.children)
		case "versionName":
			x.optStr(c.VersionName)
		case "revision":
			x.integer(c.Revision)
		case "createdAt":
			x.timestamp(c.CreatedAt)
		case "updatedAt":
			x.timestamp(c.UpdatedAt)
		default:
			x.unknown()
		}
	})
}

func (x *directRun) authSchemeConfig(c *domain.AuthSchemeConfig, sel []*node) {
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("AuthSchemeConfig")
		case "id":
			x.str(c.GlobalID)
		case "key":
			x.str(c.Key)
		case "description":
			x.optStr(c.Description)
		case "schemeType":
			x.str(string(c.SchemeType))
		case "apiKey":
			x.apiKeySettings(c.APIKey, n.children)
		case "oauth2":
			x.oauth2Settings(c.OAuth2, n.children)
		case "verifySSL":
			x.boolean(c.VerifySSL)
		case "validationMessages":
			x.strs(c.ValidationMessages())
		default:
			x.unknown()
		}
	})
}

func (x *directRun) apiKeySettings(s *domain.APIKeySettings, sel []*node) {
	if s == nil {
		x.b = append(x.b, "null"...)
		return
	}
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("ApiKeySettings")
		case "in":
			x.str(string(s.In))
		case "name":
			x.optStr(s.Name)
		default:
			x.unknown()
		}
	})
}

func (x *directRun) oauth2Settings(s *domain.OAuth2Settings, sel []*node) {
	if s == nil {
		x.b = append(x.b, "null"...)
		return
	}
	x.object(sel, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("OAuth2Settings")
		case "grant":
			if s.Grant == nil {
				x.b = append(x.b, "null"...)
			} else {
				x.str(string(*s.Grant))
			}
		case "tokenURL":
			x.optStr(s.TokenURL)
		case "authorizeURL":
			x.optStr(s.AuthorizeURL)
		case "scopes":
			x.strs(s.Scopes)
		case "audience":
			x.optStr(s.Audience)
		case "authorizationPrefix":
			x.str(s.AuthorizationPrefix)
		case "headerAuthorization":
			x.str(s.HeaderAuthorization)
		default:
			x.unknown()
		}
	})
}
