package graph

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph/generated/direct"
	"github.com/plugboard/plugboard/graph/scalars"
	"github.com/plugboard/plugboard/internal/directexec"
	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/opcache"
	"github.com/plugboard/plugboard/internal/readmodel"
)

// Reads of connectors, their versions and connections are answered by a direct executor: the
// selection is collected once per operation (not once per object; plans) and written straight
// to JSON, without gqlgen's field context, marshaler and goroutine per field and list element,
// which were most of the cost of a page of connectors. The fields it writes and how are
// generated from the schema and gqlgen.yml (graph/generated/direct, `make generate`); this
// package adds the hooks of the resolver fields it reads itself (direct_hooks.go) and what a
// selection needs read (readmodel.FieldParts). An operation with any other field, directive or
// argument, and any read that fails, is answered by gqlgen, so errors, nulls and partial
// results keep one implementation. TestDirectMatchesGqlgen and TestDifferential check that
// both give the same bytes.

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

// directPlan is an operation's planned root fields; ok is false when the direct executor
// cannot answer it.
type directPlan struct {
	roots []*directexec.Node
	need  readmodel.Parts
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
		p.roots, p.ok = directexec.Plan(oc, directTable, "Query", oc.Operation.SelectionSet, accept(&p.need), &p.nodes)
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

// accept refuses what the hooks and the generated table leave to gqlgen, and gathers in need
// the parts selected anywhere in the operation: every read of the run uses the same parts, so
// batched loads shared by several selections cannot miss one.
func accept(need *readmodel.Parts) directexec.Accept {
	return func(typ string, f *directexec.Field, n *directexec.Node) bool {
		if !directivesKnown(typ, f.Directives) || backward(n.Def.Arguments) || gqlgenArgument(typ, f.Name, n.Def.Arguments) {
			return false
		}
		*need |= readmodel.FieldParts[typ][f.Name]
		return true
	}
}

// backward tells whether a list field is given last or before, even as null: the direct
// executor reads first pages forward only and leaves windows read backward to gqlgen.
func backward(args ast.ArgumentList) bool {
	return args.ForName("last") != nil || args.ForName("before") != nil
}

// gqlgenArguments are arguments whose hooks leave them to gqlgen: a field given one (even as
// null) is answered by gqlgen, the same field without it directly.
var gqlgenArguments = map[string]string{"ConnectorVersion.actions": "first", "Connector.connections": "status"}

func gqlgenArgument(typ, field string, args ast.ArgumentList) bool {
	arg, ok := gqlgenArguments[typ+"."+field]
	return ok && args.ForName(arg) != nil
}

// directivesKnown allows only @hasScope, and only on root fields: scopesHeld checks it there
// before anything is read, like the directive does.
func directivesKnown(typ string, directives []string) bool {
	for _, d := range directives {
		if d != "hasScope" || typ != "Query" {
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
func scopesHeld(ctx context.Context, roots []*directexec.Node) bool {
	for _, n := range roots {
		if n.Def.Definition == nil {
			continue
		}
		for _, d := range n.Def.Definition.Directives {
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
func argumentsClean(nodes []*directexec.Node, vars map[string]any) bool {
	for _, n := range nodes {
		if checkArguments(n.Def.Field, vars) != nil || !argumentsClean(n.Children, vars) {
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
	x := &directRun{r: r, ctx: ctx, oc: oc, org: orgID(ctx), need: p.need, nodes: p.nodes}
	x.Run = directexec.Run{B: responseBuffer(), Hooks: &directHooks, State: x}
	defer func() {
		if cause := recover(); cause != nil {
			logGaveUp(ctx, r.Logger, "run", cause)
			x.Failed = true
		}
		if x.Failed {
			ReleaseResponse(x.B)
			readmodel.ForgetBatches(ctx)
			data, ok = nil, false
		}
	}()
	direct.WriteQuery(&x.Run, nil, p.roots)
	return x.B, !x.Failed
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

// directRun is one direct execution: the generated writers' run and what the hooks read with.
type directRun struct {
	directexec.Run
	r     *Resolver
	ctx   context.Context
	oc    *graphql.OperationContext
	org   string
	need  readmodel.Parts // the parts of records the operation selects
	nodes int
	// pages holds the first/after of list nodes, by node index, read once: a nested list is
	// read once per parent.
	pages []*domain.PageRequest
}

// args returns a field's arguments with variables and defaults applied; validation has
// already checked their types.
func (x *directRun) args(n *directexec.Node) map[string]any {
	return n.Def.ArgumentMap(x.oc.Variables)
}

func (x *directRun) stringArg(n *directexec.Node, name string) (string, bool) {
	v, present := x.args(n)[name]
	if !present || v == nil {
		x.Fail()
		return "", false
	}
	s, err := scalars.UnmarshalString(v)
	return s, x.Check(err)
}

// pageArgs reads first and after the way the resolvers do.
func (x *directRun) pageArgs(n *directexec.Node) (domain.PageRequest, bool) {
	if x.pages == nil {
		x.pages = make([]*domain.PageRequest, x.nodes)
	}
	if p := x.pages[n.Index]; p != nil {
		return *p, true
	}
	args := x.args(n)
	var first *int
	var after *string
	if v := args["first"]; v != nil {
		i, err := scalars.UnmarshalInt(v)
		if !x.Check(err) {
			return domain.PageRequest{}, false
		}
		first = &i
	}
	if v := args["after"]; v != nil {
		s, err := scalars.UnmarshalString(v)
		if !x.Check(err) {
			return domain.PageRequest{}, false
		}
		after = &s
	}
	// last and before never reach here (backward).
	page, err := domain.NormalizePageRequest(first, after, nil, nil)
	if !x.Check(err) {
		return page, false
	}
	x.pages[n.Index] = &page
	return page, true
}
