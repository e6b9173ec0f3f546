package graph

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph/scalars"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/opcache"
)

// Reads of connectors, their versions and connections are answered by a direct executor: the
// selection is collected once per operation (not once per object; plans) and written straight to JSON,
// without gqlgen's field context, marshaler and goroutine per field and list element, which
// were most of the cost of a page of connectors. It knows the plain fields of these types and
// nothing else: an operation with any other field, directive or argument, and any read that
// fails, is answered by gqlgen, so errors, nulls and partial results keep one implementation.
// TestDirectMatchesGqlgen checks that both give the same bytes.

// DirectSchema answers the queries it can plan itself and hands everything else to gqlgen.
type DirectSchema struct {
	graphql.ExecutableSchema
	Resolver *Resolver
	// Answered, when set, is told of each operation the direct executor answered.
	Answered func(ctx context.Context)
}

// Exec follows gqlgen's contract: the handler is called until it returns nil.
func (s DirectSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return s.ExecutableSchema.Exec(ctx)
	}
	var (
		answered bool
		inner    graphql.ResponseHandler
	)
	return func(ctx context.Context) *graphql.Response {
		if inner != nil {
			return inner(ctx)
		}
		if answered {
			return nil
		}
		answered = true
		if data, ok := s.Resolver.answerDirectly(ctx, oc); ok {
			if s.Answered != nil {
				s.Answered(ctx)
			}
			return &graphql.Response{Data: data}
		}
		inner = s.ExecutableSchema.Exec(ctx)
		return inner(ctx)
	}
}

// node is one planned field: its response key, its definition's name, its arguments and, for
// fields of object type, the planned fields of that object. Nodes are kept for the next
// requests of the operation (plans) and shared by their runs: what a run learns about a node
// goes in the run, under the node's index.
type node struct {
	key      []byte // `"alias":`, ready to append
	name     string
	field    graphql.CollectedField
	children []*node
	index    int // in the operation's plan
}

// directPlan is an operation's planned root fields; ok is false when the direct executor
// cannot answer it.
type directPlan struct {
	roots []*node
	need  domain.Parts
	nodes int
	ok    bool
}

// plans keeps the plan of each operation: planning collected the fields of every selection
// set, a twentieth of a one-connector query's server time. @skip and @include (applied by
// CollectFields) and @defer make a plan depend on the variables of their arguments.
var plans = opcache.New[directPlan](1000, func(op *ast.OperationDefinition) []string {
	var names []string
	visit := func(directives ast.DirectiveList) {
		for _, d := range directives {
			for _, arg := range d.Arguments {
				names = opcache.Variables(arg.Value, names)
			}
		}
	}
	opcache.Walk(op.SelectionSet, func(selection ast.Selection) {
		switch s := selection.(type) {
		case *ast.Field:
			visit(s.Directives)
		case *ast.FragmentSpread:
			visit(s.Directives)
			if s.Definition != nil {
				visit(s.Definition.Directives)
			}
		case *ast.InlineFragment:
			visit(s.Directives)
		}
	})
	return names
})

// planOf returns the operation's plan, made on its first request. A panic while planning
// (graphql.CollectFields panics on an `if` that is not a boolean, e.g. a nullable variable given
// null, where gqlgen answers a field error) makes a plan that refuses the operation; it is
// kept like any other, for these values of the condition variables only, and never holds the
// half-made nodes.
func planOf(oc *graphql.OperationContext, logger *slog.Logger, ctx context.Context) directPlan {
	return plans.Get(oc.Operation, oc.Variables, func() (p directPlan) {
		defer func() {
			if cause := recover(); cause != nil {
				logGaveUp(ctx, logger, "plan", cause)
				p = directPlan{}
			}
		}()
		p.roots, p.ok = plan(oc, "Query", oc.Operation.SelectionSet, &p.need, &p.nodes)
		return p
	})
}

// logGaveUp records why the direct executor left an operation to gqlgen after a panic. Not
// an error: gqlgen answers, correctly; the line is for whoever wonders why an operation is
// not answered directly.
func logGaveUp(ctx context.Context, logger *slog.Logger, stage string, cause any) {
	if logger != nil {
		logger.DebugContext(ctx, "direct executor gave up", "stage", stage, "panic", fmt.Sprint(cause))
	}
}

// directTypes lists, per object type, the fields the direct executor writes and the object
// type of each (empty for scalars, enums and lists of them).
var directTypes = map[string]map[string]string{
	"Query": {"connector": "Connector", "connectors": "ConnectorConnection", "connection": "Connection"},
	"Connector": {
		"id": "", "organisationId": "", "name": "", "description": "", "protocolType": "",
		"documentationURL": "", "iconURL": "", "baseURL": "", "categories": "", "revision": "",
		"createdAt": "", "updatedAt": "", "authSchemeConfigs": "AuthSchemeConfig",
		"connectionVariables": "ConnectionVariable", "versions": "ConnectorVersionConnection",
		"connections": "ConnectionConnection", "version": "ConnectorVersion",
	},
	"ConnectorConnection":        pageFields("ConnectorEdge", "Connector"),
	"ConnectorEdge":              {"cursor": "", "node": "Connector"},
	"ConnectorVersionConnection": pageFields("ConnectorVersionEdge", "ConnectorVersion"),
	"ConnectorVersionEdge":       {"cursor": "", "node": "ConnectorVersion"},
	"ConnectionConnection":       pageFields("ConnectionEdge", "Connection"),
	"ConnectionEdge":             {"cursor": "", "node": "Connection"},
	"PageInfo":                   {"hasNextPage": "", "hasPreviousPage": "", "startCursor": "", "endCursor": ""},
	"ConnectorVersion": {
		"id": "", "connectorId": "", "name": "", "description": "", "actions": "HttpAction",
		"isLatest": "", "isDefault": "", "isPublished": "", "createdAt": "", "updatedAt": "", "publishedAt": "",
	},
	"HttpAction": {
		"name": "", "purpose": "", "description": "", "method": "", "path": "", "headers": "HttpHeader",
		"bodyTemplate": "", "sampleRequestData": "",
	},
	"HttpHeader":         {"name": "", "value": ""},
	"ConnectionVariable": {"name": "", "value": ""},
	"Connection": {
		"id": "", "connectorId": "", "name": "", "variables": "ConnectionVariable", "versionName": "",
		"revision": "", "createdAt": "", "updatedAt": "",
	},
	"AuthSchemeConfig": {
		"id": "", "key": "", "description": "", "schemeType": "", "apiKey": "ApiKeySettings", "oauth2": "OAuth2Settings",
		"verifySSL": "", "validationMessages": "",
	},
	"ApiKeySettings": {"in": "", "name": ""},
	"OAuth2Settings": {
		"grant": "", "tokenURL": "", "authorizeURL": "", "scopes": "", "audience": "",
		"authorizationPrefix": "", "headerAuthorization": "",
	},
}

// fieldParts maps the fields whose data a read may leave out when nobody selects them to
// their part (domain.Parts).
var fieldParts = map[string]map[string]domain.Parts{
	"Connector": {
		"description": domain.PartConnectorDescription, "categories": domain.PartConnectorCategories,
		"authSchemeConfigs": domain.PartConnectorAuthSchemes, "connectionVariables": domain.PartConnectorVariables,
	},
	"ConnectorVersion": {
		"description": domain.PartVersionDescription, "actions": domain.PartVersionActions,
		"id": domain.PartVersionMeta, "createdAt": domain.PartVersionMeta, "updatedAt": domain.PartVersionMeta,
		"publishedAt": domain.PartVersionMeta, "isPublished": domain.PartVersionMeta,
	},
	"Connection": {
		"variables": domain.PartConnectionVariables, "versionName": domain.PartConnectionVersionName,
		"id": domain.PartConnectionMeta, "revision": domain.PartConnectionMeta, "createdAt": domain.PartConnectionMeta,
		"updatedAt": domain.PartConnectionMeta,
	},
	"ConnectorEdge":        {"cursor": domain.PartCursors},
	"ConnectorVersionEdge": {"cursor": domain.PartCursors},
	"ConnectionEdge":       {"cursor": domain.PartCursors},
	"PageInfo": {
		"startCursor": domain.PartCursors, "endCursor": domain.PartCursors, "hasNextPage": domain.PartNextPage,
	},
}

func pageFields(edge, node string) map[string]string {
	return map[string]string{"edges": edge, "nodes": node, "pageInfo": "PageInfo", "totalCount": ""}
}

// plan collects the selection of an object of type typ, or reports that it cannot. need
// gathers the parts selected anywhere in the operation: every read of the run uses the same
// parts, so batched loads shared by several selections cannot miss one.
// count numbers the nodes.
func plan(oc *graphql.OperationContext, typ string, sel ast.SelectionSet, need *domain.Parts, count *int) ([]*node, bool) {
	known := directTypes[typ]
	fields := graphql.CollectFields(oc, sel, []string{typ})
	nodes := make([]*node, 0, len(fields))
	for _, f := range fields {
		if f.Deferrable != nil || !onlyConditions(f.Directives) || backward(f.Arguments) || gqlgenArgument(typ, f.Name, f.Arguments) {
			return nil, false
		}
		n := &node{key: append(appendString(nil, f.Alias), ':'), name: f.Name, field: f, index: *count}
		*count++
		if f.Name != "__typename" {
			child, ok := known[f.Name]
			if !ok || f.Definition == nil || !directivesKnown(typ, f.Definition) {
				return nil, false
			}
			*need |= fieldParts[typ][f.Name]
			if child != "" {
				if n.children, ok = plan(oc, child, f.Selections, need, count); !ok {
					return nil, false
				}
			}
		}
		nodes = append(nodes, n)
	}
	return nodes, true
}

// gqlgenArguments are arguments of fields the direct executor writes that it does not apply:
// a field given one is left to gqlgen.
var gqlgenArguments = map[string]string{"ConnectorVersion.actions": "first", "Connector.connections": "status"}

func gqlgenArgument(typ, field string, args ast.ArgumentList) bool {
	arg, ok := gqlgenArguments[typ+"."+field]
	return ok && args.ForName(arg) != nil
}

// backward tells whether a list field is given last or before, even as null: the direct
// executor reads first pages forward only and leaves windows read backward to gqlgen.
func backward(args ast.ArgumentList) bool {
	return args.ForName("last") != nil || args.ForName("before") != nil
}

// onlyConditions tells whether a selection's directives are only @skip and @include, which
// CollectFields has already applied.
func onlyConditions(directives ast.DirectiveList) bool {
	for _, d := range directives {
		if d.Name != "skip" && d.Name != "include" {
			return false
		}
	}
	return true
}

// directivesKnown allows only @hasScope, and only on root fields: scopesHeld checks it there
// before anything is read, like the directive does.
func directivesKnown(typ string, def *ast.FieldDefinition) bool {
	for _, d := range def.Directives {
		if d.Name != "hasScope" || typ != "Query" {
			return false
		}
	}
	return true
}

// schemaScopes maps the Scope enum of the schema to the domain's scopes, as gqlgen.yml does.
var schemaScopes = map[string]domain.Scope{
	"CONNECTORS_READ":  domain.ScopeConnectorsRead,
	"CONNECTORS_WRITE": domain.ScopeConnectorsWrite,
	"KEYS_MANAGE":      domain.ScopeKeysManage,
	"PLATFORM_ADMIN":   domain.ScopePlatformAdmin,
}

// scopesHeld runs the @hasScope check of each root field.
func scopesHeld(ctx context.Context, roots []*node) bool {
	for _, n := range roots {
		if n.field.Definition == nil {
			continue
		}
		for _, d := range n.field.Definition.Directives {
			arg := d.Arguments.ForName("scope")
			if arg == nil || arg.Value == nil {
				return false
			}
			scope, known := schemaScopes[arg.Value.Raw]
			if !known || requireScope(ctx, scope) != nil {
				return false
			}
		}
	}
	return true
}

// argumentsClean runs InputText's check on the arguments of every planned field, before
// anything is read: gqlgen answers an operation that fails it, with InputText's error.
func argumentsClean(nodes []*node, vars map[string]any) bool {
	for _, n := range nodes {
		if checkArguments(n.field.Field, vars) != nil || !argumentsClean(n.children, vars) {
			return false
		}
	}
	return true
}

// answerDirectly writes the operation's data, or reports that gqlgen must answer it. Whatever
// a run that gives up did is undone before gqlgen starts: its buffer goes back to the pool and
// the batches it registered are forgotten, so gqlgen's resolvers load their own (with their
// own parts) and never see a load of the failed run.
func (r *Resolver) answerDirectly(ctx context.Context, oc *graphql.OperationContext) (data []byte, ok bool) {
	p := planOf(oc, r.Logger, ctx)
	if !p.ok || !scopesHeld(ctx, p.roots) || !argumentsClean(p.roots, oc.Variables) {
		return nil, false
	}
	x := &directRun{r: r, ctx: ctx, oc: oc, org: orgID(ctx), need: p.need, b: responseBuffer(), nodes: p.nodes}
	defer func() {
		if cause := recover(); cause != nil {
			logGaveUp(ctx, r.Logger, "run", cause)
			x.failed = true
		}
		if x.failed {
			ReleaseResponse(x.b)
			forgetBatches(ctx)
			data, ok = nil, false
		}
	}()
	x.object(p.roots, func(n *node) {
		switch n.name {
		case "__typename":
			x.str("Query")
		case "connector":
			id, ok := x.stringArg(n, "id")
			if !ok {
				return
			}
			x.oneConnector(id, n.children)
		case "connection":
			id, ok := x.stringArg(n, "id")
			if !ok {
				return
			}
			c, err := r.ConnectionService.FindConnection(ctx, x.org, id)
			if x.check(err) {
				x.connection(c, n.children)
			}
		case "connectors":
			x.connectors(n)
		default:
			x.failed = true
		}
	})
	return x.b, !x.failed
}

// Output buffers are recycled: growing a fresh one to the size of a connector list for every
// request was a seventh of the allocations of a list (and GC a third of its CPU).
var responseBuffers sync.Pool

const maxPooledResponse = 1 << 20

func responseBuffer() []byte {
	if b, ok := responseBuffers.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 4096)
}

// ReleaseResponse takes back the data of a response the direct executor answered, once it has
// been written; nothing may use data afterwards. Very large buffers are left to the GC.
func ReleaseResponse(data []byte) {
	if cap(data) == 0 || cap(data) > maxPooledResponse {
		return
	}
	responseBuffers.Put(&data)
}

// directRun is one direct execution. It stops writing at the first failure; the caller then
// discards what was written.
type directRun struct {
	r      *Resolver
	ctx    context.Context
	oc     *graphql.OperationContext
	org    string
	need   domain.Parts // the parts of records the operation selects
	b      []byte
	failed bool
	nodes  int
	// pages holds the first/after of list nodes, by node index, read once: a nested list is
	// read once per parent.
	pages []*domain.PageRequest
}

func (x *directRun) check(err error) bool {
	if err != nil {
		x.failed = true
	}
	return !x.failed
}

// object writes {"key":value,...}; value writes one field's value after its key.
func (x *directRun) object(nodes []*node, value func(n *node)) {
	x.b = append(x.b, '{')
	for i, n := range nodes {
		if x.failed {
			return
		}
		if i > 0 {
			x.b = append(x.b, ',')
		}
		x.b = append(x.b, n.key...)
		value(n)
	}
	x.b = append(x.b, '}')
}

// list writes [item,...] for n items.
func (x *directRun) list(n int, item func(i int)) {
	x.b = append(x.b, '[')
	for i := 0; i < n && !x.failed; i++ {
		if i > 0 {
			x.b = append(x.b, ',')
		}
		item(i)
	}
	x.b = append(x.b, ']')
}

func (x *directRun) unknown() { x.failed = true }

func (x *directRun) str(s string) { x.b = appendString(x.b, s) }

func (x *directRun) optStr(s *string) {
	if s == nil {
		x.b = append(x.b, "null"...)
		return
	}
	x.str(*s)
}

func (x *directRun) strs(list []string) {
	x.list(len(list), func(i int) { x.str(list[i]) })
}

func (x *directRun) integer(i int) { x.b = strconv.AppendInt(x.b, int64(i), 10) }

func (x *directRun) boolean(v bool) { x.b = strconv.AppendBool(x.b, v) }

// timestamp writes like graphql.MarshalTime; a zero time of a non-null field is gqlgen's to
// report.
func (x *directRun) timestamp(t time.Time) {
	if t.IsZero() {
		x.failed = true
		return
	}
	x.b = append(x.b, '"')
	x.b = t.AppendFormat(x.b, time.RFC3339Nano)
	x.b = append(x.b, '"')
}

func (x *directRun) optTimestamp(t *time.Time) {
	if t == nil || t.IsZero() {
		x.b = append(x.b, "null"...)
		return
	}
	x.timestamp(*t)
}

// appendString quotes s the way graphql.MarshalString does (only quotes, backslashes and
// control characters are escaped), so both executors give the same bytes.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\t':
			b = append(b, `\t`...)
		case '\r':
			b = append(b, `\r`...)
		case '\n':
			b = append(b, `\n`...)
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// args returns a field's arguments with variables and defaults applied; validation has
// already checked their types.
func (x *directRun) args(n *node) map[string]any {
	return n.field.ArgumentMap(x.oc.Variables)
}

func (x *directRun) stringArg(n *node, name string) (string, bool) {
	v, present := x.args(n)[name]
	if !present || v == nil {
		x.failed = true
		return "", false
	}
	s, err := scalars.UnmarshalString(v)
	return s, x.check(err)
}

// pageArgs reads first and after the way the resolvers do.
func (x *directRun) pageArgs(n *node) (domain.PageRequest, bool) {
	if x.pages == nil {
		x.pages = make([]*domain.PageRequest, x.nodes)
	}
	if p := x.pages[n.index]; p != nil {
		return *p, true
	}
	args := x.args(n)
	var first *int
	var after *string
	if v := args["first"]; v != nil {
		i, err := scalars.UnmarshalInt(v)
		if !x.check(err) {
			return domain.PageRequest{}, false
		}
		first = &i
	}
	if v := args["after"]; v != nil {
		s, err := scalars.UnmarshalString(v)
		if !x.check(err) {
			return domain.PageRequest{}, false
		}
		after = &s
	}
	// last and before never reach here (backward).
	page, err := domain.NormalizePageRequest(first, after, nil, nil)
	if !x.check(err) {
		return page, false
	}
	x.pages[n.index] = &page
	return page, true
}
