package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/apitest"
)

func TestPostTransport(t *testing.T) {
	apitest.Each(t, func(t *testing.T, h *apitest.Harness) {
		c := h.NewOrg(t)
		odd := `<b> & "quoted" \ ` + "\u2028 😀"
		c.Do(t, `mutation($d: String) { createConnector(input: {name: "Escaped", protocolType: HTTP, description: $d}) { id } }`,
			map[string]any{"d": odd}).OK(t)

		post := func(t *testing.T, body, accept string) (int, string, string) {
			t.Helper()
			headers := map[string]string{}
			if accept != "" {
				headers["Accept"] = accept
			}
			status, raw, header := c.Post(t, body, headers)
			return status, header.Get("Content-Type"), raw
		}
		query := `{"query":"{ connectors { nodes { name description } } }"}`
		cases := []struct {
			name, body, accept      string
			status                  int
			contentType, bodyPrefix string
		}{
			{"DataOnly", query, "", 200, "application/json", `{"data":{"connectors":`},
			{"AnyType", query, "*/*", 200, "application/json", `{"data":`},
			{"GraphQLResponseType", query, "application/graphql-response+json", 200, "application/graphql-response+json", `{"data":`},
			{"Errors", `{"query":"{ connector(id: \"00000000-0000-0000-0000-000000000000\") { id } }"}`, "", 200, "application/json", `{"errors":[`},
			{"Invalid", `{"query":"{ connectors { nope } }"}`, "application/graphql-response+json", 400, "application/graphql-response+json", `{"errors":[`},
			{"NotJSONWithSecret", `{"query": "mutation { setCredential(input: {values: [{name: \"password\", value: \"hunter2-secret\"`, "", 400, "application/json", `{"errors":[`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				status, contentType, body := post(t, tc.body, tc.accept)
				if status != tc.status || contentType != tc.contentType || !strings.HasPrefix(body, tc.bodyPrefix) {
					t.Fatalf("got %d %s %s, want %d %s %s…", status, contentType, body, tc.status, tc.contentType, tc.bodyPrefix)
				}
				var decoded struct {
					Data   map[string]any
					Errors []apitest.Error
				}
				if err := json.Unmarshal([]byte(body), &decoded); err != nil {
					t.Fatalf("not JSON: %v: %s", err, body)
				}
				if len(decoded.Errors) > 0 && decoded.Errors[0].Extensions["code"] == nil {
					t.Fatalf("error without a code: %s", body)
				}
				if strings.Contains(body, "hunter2") || strings.Contains(h.Logs.String(), "hunter2") {
					t.Fatalf("the request body came back or was logged: %s", body)
				}
				if tc.name == "NotJSONWithSecret" && decoded.Errors[0].Extensions["code"] != "BAD_USER_INPUT" {
					t.Fatalf("a body that is not JSON is bad input: %s\n%s", body, h.Logs.String())
				}
				if tc.name == "DataOnly" && !strings.Contains(body, `<b> & `) {
					t.Fatalf("strings must come back as written: %s", body)
				}
			})
		}
	})
}
