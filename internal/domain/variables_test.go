package domain_test

import (
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

func ptr[T any](v T) *T { return &v }

func TestMergeProperties(t *testing.T) {
	stored := []domain.Variable{{Name: "APIKey", Value: "old"}, {Name: "Endpoint", Value: "e1"}}
	cases := []struct {
		name    string
		props   []domain.Property
		dynamic *string
		want    []domain.Variable
		field   string // expected BAD_USER_INPUT field, "" for success
	}{
		{"DesignExample", []domain.Property{{"APIKey", "mid"}}, ptr(`{"APIKey":"new","Timeout":"60s"}`),
			[]domain.Variable{{"APIKey", "new"}, {"Endpoint", "e1"}, {"Timeout", "60s"}}, ""},
		{"NothingGiven", nil, nil, stored, ""},
		{"BlankJSONIgnored", nil, ptr("  "), stored, ""},
		{"EmptyObject", nil, ptr("{}"), stored, ""},
		{"PropertiesLaterWins", []domain.Property{{"A", "1"}, {"A", "2"}}, nil,
			[]domain.Variable{{"APIKey", "old"}, {"Endpoint", "e1"}, {"A", "2"}}, ""},
		{"NewNamesInFirstSeenOrder", []domain.Property{{"B", "1"}}, ptr(`{"Z":"z","B":"2","A":"a"}`),
			[]domain.Variable{{"APIKey", "old"}, {"Endpoint", "e1"}, {"B", "2"}, {"Z", "z"}, {"A", "a"}}, ""},
		{"NumbersAndBooleans", nil, ptr(`{"N": 1e3, "T": false}`),
			[]domain.Variable{{"APIKey", "old"}, {"Endpoint", "e1"}, {"N", "1e3"}, {"T", "false"}}, ""},
		{"UnicodeEscapes", nil, ptr(`{"S": "caf\u00e9"}`),
			[]domain.Variable{{"APIKey", "old"}, {"Endpoint", "e1"}, {"S", "café"}}, ""},
		{"ErrInvalidJSON", nil, ptr(`{`), nil, "dynamicProperties"},
		{"ErrArray", nil, ptr(`[]`), nil, "dynamicProperties"},
		{"ErrNumber", nil, ptr(`42`), nil, "dynamicProperties"},
		{"ErrNested", nil, ptr(`{"a":{"b":1}}`), nil, "dynamicProperties"},
		{"ErrNestedList", nil, ptr(`{"a":[]}`), nil, "dynamicProperties"},
		{"ErrNull", nil, ptr(`{"a":null}`), nil, "dynamicProperties"},
		{"ErrTwoObjects", nil, ptr(`{}{}`), nil, "dynamicProperties"},
		{"ErrBadName", nil, ptr(`{"a-b":"x"}`), nil, "dynamicProperties"},
		{"ErrBadPropertyName", []domain.Property{{"ok", "1"}, {"", "2"}}, nil, nil, "properties[1].name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.MergeProperties(stored, tc.props, tc.dynamic, domain.ValidateVariableName)
			if tc.field != "" {
				if domain.ErrorCode(err) != domain.CodeBadUserInput {
					t.Fatalf("want BAD_USER_INPUT, got %v", err)
				}
				if e := err.(*domain.Error); e.Field != tc.field {
					t.Fatalf("field %q, want %q", e.Field, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	if stored[0].Value != "old" {
		t.Fatal("MergeProperties modified its input")
	}
}

func TestValidateVariables(t *testing.T) {
	cases := []struct {
		name  string
		vars  []domain.Variable
		field string
	}{
		{"OK", []domain.Variable{{"a", ""}, {"_B9", "x"}}, ""},
		{"Empty", nil, ""},
		{"ErrLeadingDigit", []domain.Variable{{"9a", ""}}, "v[0].name"},
		{"ErrDash", []domain.Variable{{"a-b", ""}}, "v[0].name"},
		{"ErrEmpty", []domain.Variable{{"", ""}}, "v[0].name"},
		{"ErrDuplicate", []domain.Variable{{"a", ""}, {"b", ""}, {"a", ""}}, "v[2].name"},
		// Names equal under case folding cannot coexist in one list (the second stage's ruling).
		{"ErrCaseFoldedDuplicate", []domain.Variable{{"a", ""}, {"A", ""}}, "v[1].name"},
		{"ErrValueTooLarge", []domain.Variable{{"a", string(make([]byte, domain.MaxVariableValueBytes+1))}}, "v[0].value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := domain.ValidateVariables("v", tc.vars)
			checkField(t, err, tc.field)
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	e, ok := err.(*domain.Error)
	if !ok || e.Code != domain.CodeBadUserInput || e.Field != field {
		t.Fatalf("want BAD_USER_INPUT on %q, got %#v", field, err)
	}
}
