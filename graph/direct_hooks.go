package graph

import (
	"github.com/plugboard/plugboard/graph/generated/direct"
	"github.com/plugboard/plugboard/graph/scalars"
	"github.com/plugboard/plugboard/internal/directexec"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// directHooks are the resolver fields the direct executor reads itself; the generated writers
// write everything else it serves. Each names the arguments it reads: a field the schema
// gives another argument is left to gqlgen (directexec.Serve), so a hook never ignores one.
var directHooks = direct.Hooks{
	QueryConnector: directexec.Hook[directexec.Root]{Args: []string{"id"}, Write: func(run *directexec.Run, _ *directexec.Root, n *directexec.Node) {
		x := run.State.(*directRun)
		if id, ok := x.stringArg(n, "id"); ok {
			x.oneConnector(id, n)
		}
	}},
	QueryConnection: directexec.Hook[directexec.Root]{Args: []string{"id"}, Write: func(run *directexec.Run, _ *directexec.Root, n *directexec.Node) {
		x := run.State.(*directRun)
		id, ok := x.stringArg(n, "id")
		if !ok {
			return
		}
		c, err := x.r.ConnectionService.FindConnection(x.ctx, x.org, id)
		if x.Check(err) {
			direct.WriteConnection(run, c, n.Children)
		}
	}},
	// last and before are refused when given (backward).
	QueryConnectors: directexec.Hook[directexec.Root]{Args: []string{"first", "after", "last", "before", "filter", "orderBy"},
		Write: func(run *directexec.Run, _ *directexec.Root, n *directexec.Node) {
			run.State.(*directRun).connectors(n)
		}},
	ConnectorVersions: directexec.Hook[domain.Connector]{Args: []string{"first", "after", "last", "before"},
		Write: func(run *directexec.Run, c *domain.Connector, n *directexec.Node) {
			run.State.(*directRun).versionsOf(c, n)
		}},
	// status is left to gqlgen when given (gqlgenArguments).
	ConnectorConnections: directexec.Hook[domain.Connector]{Args: []string{"first", "after", "last", "before", "status"},
		Write: func(run *directexec.Run, c *domain.Connector, n *directexec.Node) {
			run.State.(*directRun).connectionsOf(c, n)
		}},
	// first is left to gqlgen when given (gqlgenArguments): without it, every action.
	ConnectorVersionActions: directexec.Hook[domain.ConnectorVersion]{Args: []string{"first"},
		Write: func(run *directexec.Run, v *domain.ConnectorVersion, n *directexec.Node) {
			run.ListOpen()
			for i := range v.Actions {
				if run.Failed {
					break
				}
				run.ListNext(i)
				direct.WriteHttpAction(run, &v.Actions[i], n.Children)
			}
			run.ListClose()
		}},
	ConnectorVersion: directexec.Hook[domain.Connector]{Args: []string{"name"}, Write: func(run *directexec.Run, c *domain.Connector, n *directexec.Node) {
		x := run.State.(*directRun)
		name, ok := x.stringArg(n, "name")
		if !ok {
			return
		}
		v, err := x.r.VersionService.FindVersionByName(x.ctx, c.OrganisationID, c.ID, name)
		if !x.Check(err) {
			return
		}
		if v == nil {
			x.Null()
			return
		}
		direct.WriteConnectorVersion(run, v, n.Children)
	}},
	ConnectorConnectionTotalCount: directexec.Hook[domain.ConnectorPage]{Write: func(run *directexec.Run, p *domain.ConnectorPage, _ *directexec.Node) {
		x := run.State.(*directRun)
		count, err := x.r.ConnectorService.CountConnectors(x.ctx, x.org, p.Filter)
		if x.Check(err) {
			x.Int(count)
		}
	}},
	ConnectorVersionConnectionTotalCount: directexec.Hook[domain.VersionPage]{Write: func(run *directexec.Run, p *domain.VersionPage, _ *directexec.Node) {
		x := run.State.(*directRun)
		count, err := x.r.VersionService.CountVersions(x.ctx, x.org, p.ConnectorID)
		if x.Check(err) {
			x.Int(count)
		}
	}},
	ConnectionConnectionTotalCount: directexec.Hook[domain.ConnectionPage]{Write: func(run *directexec.Run, p *domain.ConnectionPage, _ *directexec.Node) {
		x := run.State.(*directRun)
		count, err := x.r.ConnectionService.CountConnections(x.ctx, x.org, p.ConnectorID)
		if x.Check(err) {
			x.Int(count)
		}
	}},
}

// directTable is the generated field table with directHooks decided.
var directTable = direct.Schema(&directHooks)

func (x *directRun) connectors(n *directexec.Node) {
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
		x.Fail()
		return
	}
	filter, ok := x.connectorFilter(args["filter"])
	if !ok {
		return
	}
	nested := x.nestedFirst(n)
	if x.Failed {
		return
	}
	result, lists, err := x.r.Reader.ConnectorsWithLists(x.ctx, x.org, filter, order, page, x.need, nested)
	if !x.Check(err) {
		return
	}
	readmodel.RegisterGroup(x.ctx, x.org, result, lists, x.need, nested)
	direct.WriteConnectorConnection(&x.Run, result, n.Children)
}

// nestedFirst finds the first pages of versions and connections that a connector page's
// connectors select, so that the page read includes them. When several selections ask for
// different pages, the first is read with the page and the others are batched after it.
func (x *directRun) nestedFirst(page *directexec.Node) readmodel.NestedFirst {
	nested := readmodel.NoNested
	for _, c := range page.Children {
		var fields []*directexec.Node
		switch c.Name {
		case "nodes":
			fields = c.Children
		case "edges":
			for _, e := range c.Children {
				if e.Name == "node" {
					fields = e.Children
				}
			}
		}
		for _, f := range fields {
			size := &nested.Versions
			switch f.Name {
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
		x.Fail()
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
				x.Fail()
				return f, false
			}
			f.ProtocolType = domain.ProtocolType(s)
		case "categories":
			list, isList := val.([]any)
			if !isList {
				x.Fail()
				return f, false
			}
			f.Categories = make([]string, len(list))
			for i := range list {
				if f.Categories[i], err = scalars.UnmarshalString(list[i]); err != nil {
					break
				}
			}
		default:
			x.Fail()
		}
		if !x.Check(err) {
			return f, false
		}
	}
	return f, true
}

// oneConnector writes connector(id); when it asks for the first page of its versions, both
// are read together, and the versions are recorded as the connector's batch load (batch.go).
func (x *directRun) oneConnector(id string, n *directexec.Node) {
	for _, f := range n.Children {
		if f.Name != "versions" {
			continue
		}
		req, ok := x.pageArgs(f)
		if !ok || !req.Plain() {
			break
		}
		c, versions, err := x.r.Reader.ConnectorWithVersions(x.ctx, x.org, id, req.First, x.need)
		if !x.Check(err) {
			return
		}
		page := &domain.ConnectorPage{Edges: []domain.ConnectorEdge{{Node: c}}}
		lists := readmodel.Lists{Versions: map[string]*domain.VersionPage{c.ID: versions}}
		readmodel.RegisterGroup(x.ctx, x.org, page, lists, x.need, readmodel.NestedFirst{Versions: req.First, Connections: -1})
		direct.WriteConnector(&x.Run, c, n.Children)
		return
	}
	c, err := x.r.ConnectorService.FindConnector(x.ctx, x.org, id)
	if x.Check(err) {
		direct.WriteConnector(&x.Run, c, n.Children)
	}
}

// versionsOf writes a connector's versions; those of a page's connectors load for the whole
// page at once (batch.go), as they do for gqlgen's resolvers.
func (x *directRun) versionsOf(c *domain.Connector, n *directexec.Node) {
	req, ok := x.pageArgs(n)
	if !ok {
		return
	}
	page, err := x.r.versionsPage(x.ctx, c, req, x.need)
	if x.Check(err) {
		direct.WriteConnectorVersionConnection(&x.Run, page, n.Children)
	}
}

// connectionsOf is versionsOf for connections.
func (x *directRun) connectionsOf(c *domain.Connector, n *directexec.Node) {
	req, ok := x.pageArgs(n)
	if !ok {
		return
	}
	page, err := x.r.connectionsPage(x.ctx, c, req, x.need)
	if x.Check(err) {
		direct.WriteConnectionConnection(&x.Run, page, n.Children)
	}
}
