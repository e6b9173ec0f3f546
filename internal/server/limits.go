package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/document"
	"github.com/plugboard/plugboard/internal/domain"
)

// introspectionDepth bounds the nesting inside __schema and __type, which is counted apart from
// the operation's depth: graphql-js's standard introspection query nests 15 levels for its type
// references alone.
const introspectionDepth = 20

// documentLimit refuses documents that are too large or too deeply nested before gqlgen
// validates them. Validation is quadratic in the fields of a selection set (comparing fields
// that could merge), so a document's tokens and selections are bounded first, and every check
// here is linear in the document: a fragment's shape is computed once, however often it is
// spread. A document in gqlgen's query cache has passed already. Batched requests (JSON arrays
// of operations) are not accepted by the transports at all.
type documentLimit struct {
	maxTokens, maxSelections, maxDepth, maxAliases, maxRootFields int
	// noIntrospection refuses __schema and __type up front with a clear error.
	noIntrospection bool
	// passed is gqlgen's query cache: it holds only documents that were validated.
	passed graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = documentLimit{}

func (documentLimit) ExtensionName() string                   { return "DocumentLimit" }
func (documentLimit) Validate(graphql.ExecutableSchema) error { return nil }

// limitError is the answer to a request over a limit: the error presenter reports it as bad
// input with reason LIMIT_EXCEEDED.
func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": "LIMIT_EXCEEDED"}
	return err
}

func (l documentLimit) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if _, ok := l.passed.Get(ctx, params.Query); ok {
		return nil
	}
	tooMany, badString := tokensOver(params.Query, l.maxTokens)
	if tooMany {
		return limitError("the query text has more than %d tokens; send large values as variables", l.maxTokens)
	}
	if badString {
		err := gqlerror.Errorf(`a string of the query holds a \u escape of half a UTF-16 surrogate pair, which is no character`)
		err.Extensions = map[string]any{"code": "INVALID_PARAMETERS"}
		return err
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: params.Query})
	if err != nil {
		return nil // gqlgen reports the syntax error itself
	}
	return l.check(doc)
}

// tokensOver tells whether query has more than limit tokens, reading no further than that,
// and whether a string token escapes half a surrogate pair (which the lexer would turn into
// U+FFFD without a word; see textProblem).
func tokensOver(query string, limit int) (over, badString bool) {
	lex := lexer.New(&ast.Source{Input: query})
	for n := 0; n <= limit; n++ {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			return false, badString // a lexical error is the parser's to report
		}
		if tok.Kind == lexer.String && domain.LoneSurrogateEscape(query[tok.Pos.Start:tok.Pos.End]) {
			badString = true
		}
	}
	return true, badString
}

func (l documentLimit) check(doc *ast.QueryDocument) *gqlerror.Error {
	s := newShapes(doc)
	if s.selections > l.maxSelections {
		return limitError("the document has %d selections; at most %d are allowed", s.selections, l.maxSelections)
	}
	for _, op := range doc.Operations {
		if n := len(op.SelectionSet); n > l.maxRootFields {
			return limitError("the operation has %d top-level fields; at most %d are allowed", n, l.maxRootFields)
		}
		depth, aliases := s.of(op.SelectionSet)
		if depth > l.maxDepth {
			return limitError("the operation is nested %d levels deep; at most %d are allowed", depth, l.maxDepth)
		}
		if aliases > l.maxAliases {
			return limitError("the operation uses %d aliases; at most %d are allowed", aliases, l.maxAliases)
		}
	}
	if s.introspection > introspectionDepth {
		return limitError("the introspection is nested %d levels deep; at most %d are allowed", s.introspection, introspectionDepth)
	}
	return nil
}

func (l documentLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || !l.noIntrospection {
		return nil
	}
	for _, sel := range oc.Operation.SelectionSet {
		if f, ok := sel.(*ast.Field); ok && isIntrospection(f) {
			err := gqlerror.Errorf("introspection is disabled on this server (PLUGBOARD_INTROSPECTION)")
			err.Extensions = map[string]any{"code": "INTROSPECTION_DISABLED"}
			return err
		}
	}
	return nil
}

func isIntrospection(f *ast.Field) bool { return f.Name == "__schema" || f.Name == "__type" }

// shapes measures the selection sets of one document. Fragments are found by name (a parsed
// document's spreads are not linked to their definitions until validation) and measured once.
type shapes struct {
	fragments map[string]*ast.FragmentDefinition
	measured  map[string]*shape
	// selections counts every selection of the document once, fragments' included.
	selections int
	// introspection is the deepest __schema or __type subtree.
	introspection int
}

// shape is what a selection set contributes: the levels of nesting below it (introspection
// subtrees count as one level), its aliases as executed (a fragment's count once per spread),
// and its depth with introspection subtrees counted in full.
type shape struct {
	depth, aliases, fullDepth int
	measuring                 bool
}

func newShapes(doc *ast.QueryDocument) *shapes {
	s := &shapes{fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments)), measured: map[string]*shape{}}
	for _, f := range doc.Fragments {
		s.fragments[f.Name] = f
		s.count(f.SelectionSet)
	}
	for _, op := range doc.Operations {
		s.count(op.SelectionSet)
	}
	return s
}

func (s *shapes) count(set ast.SelectionSet) {
	for _, sel := range set {
		s.selections++
		switch sel := sel.(type) {
		case *ast.Field:
			s.count(sel.SelectionSet)
		case *ast.InlineFragment:
			s.count(sel.SelectionSet)
		}
	}
}

// of returns the depth (1 for a set of leaves) and the aliases of set.
func (s *shapes) of(set ast.SelectionSet) (depth, aliases int) {
	sh := s.measure(set)
	return sh.depth, sh.aliases
}

func (s *shapes) measure(set ast.SelectionSet) shape {
	out := shape{depth: 1, fullDepth: 1}
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Alias != "" && sel.Alias != sel.Name {
				out.aliases = saturatingAdd(out.aliases, 1)
			}
			if len(sel.SelectionSet) == 0 {
				continue
			}
			child := s.measure(sel.SelectionSet)
			out.aliases = saturatingAdd(out.aliases, child.aliases)
			out.fullDepth = max(out.fullDepth, 1+child.fullDepth)
			if isIntrospection(sel) {
				s.introspection = max(s.introspection, 1+child.fullDepth)
				out.depth = max(out.depth, 2)
				continue
			}
			out.depth = max(out.depth, 1+child.depth)
		case *ast.InlineFragment:
			out.merge(s.measure(sel.SelectionSet))
		case *ast.FragmentSpread:
			out.merge(s.fragment(sel.Name))
		}
	}
	return out
}

func (sh *shape) merge(other shape) {
	sh.depth = max(sh.depth, other.depth)
	sh.fullDepth = max(sh.fullDepth, other.fullDepth)
	sh.aliases = saturatingAdd(sh.aliases, other.aliases)
}

// fragment measures a fragment once. A spread of a fragment being measured (a cycle, which
// validation refuses afterwards) and of an unknown fragment add nothing.
func (s *shapes) fragment(name string) shape {
	if sh, ok := s.measured[name]; ok {
		if sh.measuring {
			return shape{}
		}
		return *sh
	}
	def, ok := s.fragments[name]
	if !ok {
		return shape{}
	}
	sh := &shape{measuring: true}
	s.measured[name] = sh
	*sh = s.measure(def.SelectionSet)
	return *sh
}

// saturatingAdd keeps alias counts of fragments spread many times from overflowing.
func saturatingAdd(a, b int) int {
	const ceiling = 1 << 40
	return min(a+b, ceiling)
}

// documentFieldsPerAction is what one action of ConnectorVersion.document costs.
const documentFieldsPerAction = 4

// pageCost makes list fields cost their page size times their children, so that the
// complexity limit sees what a connection of 100 connectors with 100 versions each costs. It
// returns the fields it prices ("Type.field"): only their arguments change a complexity.
func pageCost(cfg *generated.Config) map[string]bool {
	// A page holds first or last items (both is refused before anything is read).
	page := func(first, last *int, child int) int {
		n := domain.DefaultPageSize
		switch {
		case first != nil && *first >= 0:
			n = *first
		case last != nil && *last >= 0:
			n = *last
		}
		return 1 + max(n, 1)*child
	}
	c := &cfg.Complexity
	c.Query.Connectors = func(child int, first *int, _ *string, last *int, _ *string, _ *generated.ConnectorFilter, _ *domain.ConnectorOrder) int {
		return page(first, last, child)
	}
	c.Query.AuditEvents = func(child int, first *int, _ *string, last *int, _ *string, _ *generated.AuditEventFilter) int {
		return page(first, last, child)
	}
	c.Connector.Connections = func(child int, first *int, _ *string, last *int, _ *string, _ *domain.ConnectionStatus) int {
		return page(first, last, child)
	}
	c.Connector.Versions = func(child int, first *int, _ *string, last *int, _ *string) int { return page(first, last, child) }
	// A connection's events: a page of up to 100, whose bytes domain.EventBudget bounds.
	c.Connection.Events = func(child int, first *int, _ *string, last *int, _ *string, _ *string) int {
		return page(first, last, child)
	}
	// Each id of nodes is a lookup of its own and an object of the selection.
	c.Query.Nodes = func(child int, ids []string) int { return 1 + max(len(ids), 1)*child }
	// Unpaginated lists are bounded by the domain's own limits; count a typical size.
	c.Connection.Credentials = func(child int, _ *domain.CredentialKind) int { return 1 + 5*child }
	// A version holds up to MaxActions; without first, a selection of actions may read them all.
	c.ConnectorVersion.Actions = func(child int, first *int) int {
		n := domain.MaxActions
		if first != nil && *first >= 0 {
			n = min(*first, domain.MaxActions)
		}
		return 1 + max(n, 1)*child
	}
	// A document writes every action of the version with all its fields: price it as
	// actions without first selecting documentFieldsPerAction fields (a 2,000-action
	// document took 16 ms to render; 200 of them in one request ran past the timeout).
	c.ConnectorVersion.Document = func(int, *document.Format) int {
		return 1 + domain.MaxActions*documentFieldsPerAction
	}
	return map[string]bool{"ConnectorVersion.document": true, "Query.connectors": true, "Query.auditEvents": true, "Query.nodes": true,
		"Connector.connections": true, "Connector.versions": true, "Connection.credentials": true, "ConnectorVersion.actions": true,
		"Connection.events": true}
}
