package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/plugboard/plugboard/graph/generated"
	"github.com/plugboard/plugboard/internal/apitest"
)

// schema is the executable schema's definition: the tenancy and scope suites walk it, so that
// operations added later are covered without anyone listing them.
var schema = generated.NewExecutableSchema(generated.Config{}).Schema()

// sampleInputs are valid values for input types whose required fields the generic generator
// cannot guess (the server checks them before it looks the id up). An operation whose input
// fails validation makes the suite fail with a message asking for a sample here.
var sampleInputs = map[string]map[string]any{
	"UpdateConnectorInput":  {"name": "tenancy", "protocolType": "HTTP"},
	"UpdateConnectionInput": {"name": "tenancy"},
	"UpdateVersionInput":    {"name": "tenancy"},
	"AuthSchemeConfigInput": {"id": "basic", "schemeType": "NONE"},
}

// sample returns a value of type typ for an argument or input field.
func sample(typ *ast.Type) any {
	if typ.Elem != nil {
		return []any{}
	}
	if v, ok := sampleInputs[typ.NamedType]; ok {
		return v
	}
	def := schema.Types[typ.NamedType]
	switch def.Kind {
	case ast.Enum:
		return def.EnumValues[0].Name
	case ast.InputObject:
		obj := map[string]any{}
		for _, f := range def.Fields {
			if f.Type.NonNull {
				obj[f.Name] = sample(f.Type)
			}
		}
		return obj
	}
	switch typ.NamedType {
	case "Int":
		return 1
	case "Boolean":
		return true
	case "JSON":
		return map[string]any{}
	}
	return "tenancy"
}

// resource says what an operation's "id" argument names, from the operation's name.
func resource(op string) string {
	if op == "node" {
		return "Connector" // any object does; node_test.go covers every type
	}
	for _, r := range []string{"Credential", "Version", "AuthSchemeConfig", "ApiKey", "Connection", "Connector"} {
		if strings.Contains(strings.ToLower(op), strings.ToLower(r)) {
			return r
		}
	}
	return ""
}

// operation is a root field of the schema with a document that calls it, every argument a
// variable.
type operation struct {
	root, name, query string
	args              []*ast.ArgumentDefinition
}

// rootOperations lists every query and mutation of the schema.
func rootOperations() []operation {
	var ops []operation
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			var params, args []string
			for _, a := range f.Arguments {
				params = append(params, fmt.Sprintf("$%s: %s", a.Name, a.Type.String()))
				args = append(args, fmt.Sprintf("%s: $%s", a.Name, a.Name))
			}
			selection := ""
			if k := schema.Types[f.Type.Name()].Kind; k == ast.Object || k == ast.Interface || k == ast.Union {
				selection = " { __typename }"
			}
			kind := "query"
			if root == schema.Mutation {
				kind = "mutation"
			}
			q := fmt.Sprintf("%s { %s%s }", kind, f.Name, selection)
			if len(args) > 0 {
				q = fmt.Sprintf("%s(%s) { %s(%s)%s }", kind, strings.Join(params, ", "), f.Name, strings.Join(args, ", "), selection)
			}
			ops = append(ops, operation{root: root.Name, name: f.Name, query: q, args: f.Arguments})
		}
	}
	return ops
}

// idOperations lists every query and mutation that takes an ID argument.
func idOperations() []operation {
	var ops []operation
	for _, op := range rootOperations() {
		if slices.ContainsFunc(op.args, func(a *ast.ArgumentDefinition) bool { return a.Type.NamedType == "ID" }) {
			ops = append(ops, op)
		}
	}
	return ops
}

// owned are the ids of one organisation's resources.
type owned map[string]string

// ownResources gives owner's organisation one resource of each kind an id can name: a
// connector with auth scheme configs "basic" and "key", a connection, its credential, a draft
// version, and owner's own key.
func ownResources(t *testing.T, owner *apitest.Client) owned {
	t.Helper()
	ids := owned{"AuthSchemeConfig": "basic", "ApiKey": owner.KeyID}
	ids["Connector"] = mustCreate(t, owner, fullConnector("Private")).String("createConnector.id")
	ids["Connection"] = owner.Do(t, createConnection, map[string]any{"c": ids["Connector"], "input": map[string]any{"name": "c"}}).OK(t).String("createConnection.id")
	ids["Credential"] = owner.Do(t, setCredential, map[string]any{"id": ids["Connection"], "input": basicCredential("u", "p")}).OK(t).String("setCredential.id")
	ids["Version"] = owner.Do(t, createVersion, map[string]any{"c": ids["Connector"], "input": map[string]any{"name": "1"}}).OK(t).String("createVersion.id")
	return ids
}

func (op operation) variables(t *testing.T, ids owned) map[string]any {
	vars := map[string]any{}
	for _, a := range op.args {
		switch {
		case a.Type.NamedType != "ID":
			if a.Type.NonNull {
				vars[a.Name] = sample(a.Type)
			}
		case a.Name == "connectorId":
			vars[a.Name] = ids["Connector"]
		case a.Name == "connectionId":
			vars[a.Name] = ids["Connection"]
		case a.Name == "authSchemeConfigId":
			vars[a.Name] = ids["AuthSchemeConfig"]
		case a.Name == "id":
			r := resource(op.name)
			id, ok := ids[r]
			if !ok {
				t.Fatalf("the tenancy suite does not know what the id of %s names: teach resource() and add an owned %q", op.name, r)
			}
			vars[a.Name] = id
		default:
			t.Fatalf("the tenancy suite does not know the ID argument %s.%s", op.name, a.Name)
		}
	}
	return vars
}

func TestTenancyEveryIDOperation(t *testing.T) {
	ops := idOperations()
	if len(ops) < 20 {
		t.Fatalf("only %d operations take an id: the schema walk is broken", len(ops))
	}
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		owner := h.NewOrg(t)
		intruder := h.NewOrg(t)
		ids := ownResources(t, owner)
		const missingID = "01a00000-0000-7000-8000-000000000000"
		missing := owned{"AuthSchemeConfig": "basic"}
		for k := range ids {
			if _, set := missing[k]; !set {
				missing[k] = missingID
			}
		}
		before := snapshot(t, owner, ids["Connector"]) + connectionSnapshot(t, owner, ids["Connection"]) + owner.Do(t, keysState, nil).OK(t).Body
		for _, op := range ops {
			t.Run(op.name, func(t *testing.T) {
				foreign := intruder.Do(t, op.query, op.variables(t, ids))
				random := intruder.Do(t, op.query, op.variables(t, missing))
				if random.Code() != "NOT_FOUND" {
					t.Fatalf("a missing id must answer NOT_FOUND; if the sample input is invalid, add one to sampleInputs: %s", random.Body)
				}
				foreign.ExpectError(t, "NOT_FOUND", "")
				normalized := foreign.Body
				for k, id := range ids {
					if k != "AuthSchemeConfig" {
						normalized = strings.ReplaceAll(normalized, id, missingID)
					}
				}
				if normalized != random.Body {
					t.Errorf("foreign and missing ids answer differently:\n%s\n%s", foreign.Body, random.Body)
				}
			})
		}
		after := snapshot(t, owner, ids["Connector"]) + connectionSnapshot(t, owner, ids["Connection"]) + owner.Do(t, keysState, nil).OK(t).Body
		if after != before {
			t.Fatal("another organisation changed the owner's data")
		}
		r := intruder.Do(t, `{ connectors { totalCount edges { node { id } } } apiKeys { id } }`, nil).OK(t)
		if r.Int("connectors.totalCount") != 0 || strings.Contains(r.Body, ids["Connector"]) || strings.Contains(r.Body, owner.KeyID) {
			t.Errorf("another organisation's data is listed: %s", r.Body)
		}
	})
}
