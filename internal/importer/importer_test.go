package importer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
	"github.com/plugboard/plugboard/internal/importer"
	"github.com/plugboard/plugboard/internal/importer/testdocs"
)

const petstore = `openapi: 3.1.0
info: {title: Pets, version: "1"}
servers:
  - url: https://{region}.pets.example.com/v1/
    variables: {region: {default: eu}}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Api-Key}
    oauth:
      type: oauth2
      flows:
        authorizationCode: {authorizationUrl: "https://auth.example.com/authorize", tokenUrl: "https://auth.example.com/token", scopes: {"pets:read": r, "pets:write": w}}
        clientCredentials: {tokenUrl: "https://auth.example.com/token", scopes: {}}
    oidc: {type: openIdConnect, openIdConnectUrl: "https://auth.example.com/.well-known/openid-configuration"}
  schemas:
    Pet:
      type: object
      required: [name]
      properties: {name: {type: string}, age: {type: [integer, "null"]}}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: X-Trace, in: header, required: true, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
    post:
      summary: Add a pet
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
  /pets/{pet-id}:
    parameters: [{name: pet-id, in: path, required: true, schema: {type: string}}]
    get: {operationId: getPet}
    head: {operationId: headPet}
    delete:
      operationId: deletePet
      requestBody:
        content:
          application/json:
            schema: {$ref: "other.yaml#/Pet"}
`

func TestOpenAPIMapping(t *testing.T) {
	doc, err := importer.OpenAPI(context.Background(), []byte(petstore))
	if err != nil {
		t.Fatal(err)
	}
	if doc.BaseURL == nil || *doc.BaseURL != "https://eu.pets.example.com/v1" {
		t.Errorf("baseURL from servers[0] with its variable defaults: %v", doc.BaseURL)
	}
	byName := map[string]domain.HTTPAction{}
	for _, a := range doc.Actions {
		byName[a.Action.Name] = a.Action
	}
	list := byName["listPets"]
	if list.Path != "/pets?limit={{limit?}}" || len(list.Headers) != 1 || list.Headers[0].Value != "{{X-Trace}}" {
		t.Errorf("query and header parameters as placeholders (optional ones with ?): %+v", list)
	}
	if get := byName["getPet"]; get.Path != "/pets/{{pet-id}}" || get.Purpose != "Read" {
		t.Errorf("path templates become placeholders: %+v", get)
	}
	add := byName["Add a pet"]
	if add.Method != domain.MethodPost || add.BodyTemplate == nil || *add.BodyTemplate != `{"name": "{{name}}"}` || add.SampleRequestData == nil {
		t.Errorf("body from the schema: %+v", add)
	}
	keys := []string{}
	for _, c := range doc.Configs {
		keys = append(keys, c.Key+":"+string(c.SchemeType))
	}
	if strings.Join(keys, ",") != "key:API_KEY,oauth-authorizationCode:OAUTH2,oauth-clientCredentials:OAUTH2" {
		t.Errorf("configs: %v", keys)
	}
	all := strings.Join(doc.Warnings, "\n")
	for _, want := range []string{"cookie parameter \"session\"", "HEAD", "openIdConnect", "other.yaml"} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning about %s in:\n%s", want, all)
		}
	}
}

func TestInvalidDocuments(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"NotYAML", "openapi: 3.0.0\npaths: [\n", "line"},
		{"Swagger2", `{"swagger": "2.0", "paths": {}}`, "2.0"},
		{"NoVersion", `{"paths": {}}`, "openapi"},
		{"JSONSyntax", "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"x\", \"version\": \"1\"},\n  \"x\": ,\n \"paths\": {}}", "line 2, column 8"},
		{"JSONNoInfo", `{"openapi": "3.0.3", "paths": {}}`, "info object is required"},
		{"YAMLNoInfo", "openapi: 3.0.3\npaths: {}\n", "info object is required"},
		{"NoTitle", "openapi: 3.1.0\ninfo: {version: '1'}\npaths: {}\n", "info.title"},
		{"NoPaths", `{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}}`, "paths"},
		{"WrongType", "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths: {/a: {get: {parameters: 7}}}\n", "parameters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer.OpenAPI(context.Background(), []byte(tc.doc))
			var de *domain.Error
			if !asDomain(err, &de) || de.Code != domain.CodeBadUserInput || de.Field != "document" || !strings.Contains(de.Message, tc.want) {
				t.Errorf("want BAD_USER_INPUT on document mentioning %q: %v", tc.want, err)
			}
		})
	}
	huge := make([]byte, domain.MaxImportDocumentBytes+1)
	if _, err := importer.OpenAPI(context.Background(), huge); domain.ErrorCode(err) != domain.CodeBadUserInput {
		t.Errorf("a document over the limit: %v", err)
	}
}

func asDomain(err error, target **domain.Error) bool {
	e, ok := err.(*domain.Error)
	if ok {
		*target = e
	}
	return ok
}

func TestPostman(t *testing.T) {
	collection := `{"info": {"name": "Shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
	  "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "secret-never-imported"}]},
	  "variable": [{"key": "baseUrl", "value": "https://shop.example.com/api"}, {"key": "bad-name", "value": "x"}, {"key": "region", "value": "eu"}],
	  "item": [{"name": "Orders", "item": [
	    {"name": "Get order", "request": {"method": "GET", "url": {"raw": "{{baseUrl}}/orders/:id?region={{region}}"},
	      "header": [{"key": "X-Shop", "value": "{{shop}}"}, {"key": "X-Off", "value": "1", "disabled": true}]}},
	    {"name": "Create order", "request": {"method": "POST", "url": "{{baseUrl}}/orders",
	      "body": {"mode": "raw", "raw": "{\"sku\": \"{{sku}}\"}", "options": {"raw": {"language": "json"}}}}},
	    {"name": "Upload", "request": {"method": "POST", "url": "{{baseUrl}}/files", "body": {"mode": "formdata"}}}]}]}`
	doc, err := importer.Postman([]byte(collection))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Actions) != 3 || doc.Actions[0].Action.Name != "Orders / Get order" || doc.Actions[0].Action.Path != "/orders/{{id}}?region={{region}}" {
		t.Fatalf("actions: %+v", doc.Actions)
	}
	if h := doc.Actions[0].Action.Headers; len(h) != 1 || h[0].Value != "{{shop}}" {
		t.Errorf("headers (disabled ones left out): %+v", h)
	}
	if *doc.BaseURL != "https://shop.example.com/api" || len(doc.Configs) != 1 || doc.Configs[0].SchemeType != domain.SchemeBearer {
		t.Errorf("base URL and configs: %v %+v", *doc.BaseURL, doc.Configs)
	}
	if len(doc.Variables) != 2 || !strings.Contains(strings.Join(doc.Warnings, "\n"), "bad-name") {
		t.Errorf("variables (bad names skipped with a warning): %+v %v", doc.Variables, doc.Warnings)
	}
	if strings.Contains(strings.Join(doc.Warnings, "")+string(must(doc)), "secret-never-imported") {
		t.Error("an auth value was imported")
	}
	if _, err := importer.Postman([]byte(`{"info": {"schema": "x"}, "item": []}`)); domain.ErrorCode(err) != domain.CodeBadUserInput {
		t.Errorf("not a v2.1 collection: %v", err)
	}
	if _, err := importer.Postman([]byte("{\n  \"info\": ,\n}")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a syntax error gives its line: %v", err)
	}
}

func must(doc *domain.ImportedDocument) []byte {
	var b strings.Builder
	for _, a := range doc.Actions {
		b.WriteString(a.Action.Path)
	}
	for _, c := range doc.Configs {
		b.WriteString(c.Key)
	}
	return []byte(b.String())
}

// TestRealDescriptions imports every example of ReadMe's OpenAPI collection and GitHub's REST
// description.
func TestRealDescriptions(t *testing.T) {
	for _, path := range testdocs.Examples(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(path)))+"/"+filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := importer.OpenAPI(context.Background(), data)
			if err != nil {
				t.Fatalf("%v", err)
			}
			in := domain.VersionInput{Name: "1"}
			for _, a := range doc.Actions {
				in.Actions = append(in.Actions, a.Action)
			}
			if err := in.Validate(); err != nil {
				t.Errorf("the imported actions are not a valid version: %v", err)
			}
		})
	}
	t.Run("GitHub", func(t *testing.T) {
		doc, err := importer.OpenAPI(context.Background(), testdocs.GitHub(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(doc.Actions) < 1000 || doc.BaseURL == nil || *doc.BaseURL != "https://api.github.com" {
			t.Errorf("%d actions, base %v", len(doc.Actions), doc.BaseURL)
		}
	})
}

// BenchmarkImportGitHub reads GitHub's REST description (13 MB, about 1,200 operations).
func BenchmarkImportGitHub(b *testing.B) {
	data := testdocs.GitHub(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := importer.OpenAPI(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUnusableOperationsAreLeftOut(t *testing.T) {
	doc := "openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n" +
		"  /ok: {get: {operationId: fine}}\n" +
		"  /bad: {get: {operationId: badHeader, parameters: [{name: 'Bad Header', in: header, schema: {type: string}}]}}\n"
	got, err := importer.OpenAPI(context.Background(), []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Actions) != 1 || got.Actions[0].Action.Name != "fine" || !strings.Contains(strings.Join(got.Warnings, "\n"), "badHeader") {
		t.Errorf("an operation the version would refuse is left out with a warning: %+v %v", got.Actions, got.Warnings)
	}
}

// An import whose request has ended stops after parsing instead of mapping and answering.
func TestOpenAPIStopsWhenTheRequestEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := importer.OpenAPI(ctx, []byte(petstore)); err != context.Canceled {
		t.Errorf("import after the request ended: %v", err)
	}
}
