// Package scalars holds strict versions of GraphQL's built-in String, Int and Boolean. gqlgen's
// own accept 5 for a String and "5" for an Int; the GraphQL specification rejects both, and so
// does Plugboard, so that a client's type mistake is a clear BAD_USER_INPUT instead of a value
// silently stored in another form.
package scalars

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalString writes a String.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString accepts only strings.
func UnmarshalString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("%s is not a string", describe(v))
}

// MarshalInt writes an Int.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt accepts only integral numbers within 32 bits, as the specification's Int.
func UnmarshalInt(v any) (int, error) {
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	case json.Number:
		i, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer", v)
		}
		n = i
	case float64:
		if v != math.Trunc(v) {
			return 0, fmt.Errorf("%v is not an integer", v)
		}
		n = int64(v)
	default:
		return 0, fmt.Errorf("%s is not an integer", describe(v))
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%d is out of range for Int", n)
	}
	return int(n), nil
}

// MarshalBoolean writes a Boolean.
func MarshalBoolean(b bool) graphql.Marshaler { return graphql.MarshalBoolean(b) }

// UnmarshalBoolean accepts only true and false.
func UnmarshalBoolean(v any) (bool, error) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, fmt.Errorf("%s is not a boolean", describe(v))
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	default:
		return fmt.Sprint(v)
	}
}

// MarshalMap writes a JSON object.
func MarshalMap(m map[string]any) graphql.Marshaler { return graphql.MarshalMap(m) }

// UnmarshalMap accepts only JSON objects, and says so in the words of JSON (gqlgen's own
// message named the Go type: "[]interface {} is not a map").
func UnmarshalMap(v any) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, fmt.Errorf("%s is not a JSON object", describe(v))
}
