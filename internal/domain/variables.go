package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Variable is a name/value pair: a connector's default connection variable, or a
// connection's own.
type Variable struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Property is one name/value pair of a patch's properties list.
type Property struct {
	Name  string
	Value string
}

// Limits on variable lists.
const (
	MaxVariables          = 500
	MaxVariableNameLength = 128
	MaxVariableValueBytes = 8192
)

var variableNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidateVariableName checks a name against [A-Za-z_][A-Za-z0-9_]*.
func ValidateVariableName(field, name string) error {
	if !variableNamePattern.MatchString(name) || len(name) > MaxVariableNameLength {
		return Invalid(field, "%q is not a valid variable name: it must match [A-Za-z_][A-Za-z0-9_]* and be at most %d characters", name, MaxVariableNameLength)
	}
	return nil
}

// ValidateVariables checks names, uniqueness and sizes of an ordered variable list.
func ValidateVariables(field string, vars []Variable) error {
	if len(vars) > MaxVariables {
		return Invalid(field, "at most %d variables", MaxVariables)
	}
	seen := make(map[string]int, len(vars))
	for i, v := range vars {
		item := fmt.Sprintf("%s[%d]", field, i)
		if err := ValidateVariableName(item+".name", v.Name); err != nil {
			return err
		}
		key := NameKey(v.Name)
		if j, dup := seen[key]; dup {
			return Invalid(item+".name", "%s", alreadyUsed(v.Name, vars[j].Name, "name", fmt.Sprintf("%s[%d]", field, j)))
		}
		seen[key] = i
		if len(v.Value) > MaxVariableValueBytes {
			return Invalid(item+".value", "must be at most %d bytes", MaxVariableValueBytes)
		}
	}
	return nil
}

// MergeProperties applies a patch to an ordered list: properties and the JSON object
// dynamicProperties are merged, the JSON winning on equal names, and the result is laid on
// top of stored. Stored names keep their place; new names are appended in the order they
// first appear (properties, then JSON). validName checks each name and returns a
// BAD_USER_INPUT error naming the field it was given.
func MergeProperties(stored []Variable, properties []Property, dynamicProperties *string, validName func(field, name string) error) ([]Variable, error) {
	var patch []Variable
	index := map[string]int{}
	// Names match exactly; a new name that only looks like a stored or earlier one (another
	// letter case, width, invisible characters) would make two that cannot coexist.
	keys := make(map[string]string, len(stored))
	for _, v := range stored {
		keys[NameKey(v.Name)] = v.Name
	}
	set := func(field, name, value string) error {
		if i, ok := index[name]; ok {
			patch[i].Value = value
			return nil
		}
		key := NameKey(name)
		if other, taken := keys[key]; taken && other != name {
			return Invalid(field, "%s", alreadyUsed(name, other, "name", "an existing variable; use its exact name to change it"))
		}
		keys[key] = name
		index[name] = len(patch)
		patch = append(patch, Variable{Name: name, Value: value})
		return nil
	}
	for i, p := range properties {
		field := fmt.Sprintf("properties[%d].name", i)
		if err := validName(field, p.Name); err != nil {
			return nil, err
		}
		if err := set(field, p.Name, p.Value); err != nil {
			return nil, err
		}
	}
	if dynamicProperties != nil && strings.TrimSpace(*dynamicProperties) != "" {
		pairs, err := ParseDynamicProperties(*dynamicProperties)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			if err := validName("dynamicProperties", p.Name); err != nil {
				return nil, err
			}
			if err := set("dynamicProperties", p.Name, p.Value); err != nil {
				return nil, err
			}
		}
	}
	out := make([]Variable, len(stored), len(stored)+len(patch))
	copy(out, stored)
	pos := make(map[string]int, len(stored))
	for i, v := range out {
		pos[v.Name] = i
	}
	for _, p := range patch {
		if i, ok := pos[p.Name]; ok {
			out[i].Value = p.Value
		} else {
			out = append(out, p)
		}
	}
	return out, nil
}

// ParseDynamicProperties reads a JSON object of scalar values, keeping the order of its keys.
// Strings are taken as they are; numbers and booleans as their JSON text. Null, arrays and
// objects are rejected, as is anything that is not exactly one JSON object.
func ParseDynamicProperties(s string) ([]Variable, error) {
	const field = "dynamicProperties"
	if LoneSurrogateEscape(s) {
		return nil, Invalid(field, `escapes half a UTF-16 surrogate pair (such as \udc00), which is no character`)
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, Invalid(field, "is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, Invalid(field, "must be a JSON object such as {\"Timeout\": \"60s\"}")
	}
	var out []Variable
	for dec.More() {
		keyTok, err := dec.Token()
		if err != nil {
			return nil, Invalid(field, "is not valid JSON")
		}
		key, _ := keyTok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, Invalid(field, "is not valid JSON")
		}
		value, err := scalarText(raw)
		if err != nil {
			return nil, Invalid(field, "the value of %q %s", key, err.Error())
		}
		// The JSON text itself passed the request's text check, but its escapes (\u0000)
		// decode to what the check refuses.
		if CheckText(field, key) != nil || CheckText(field, value) != nil {
			return nil, Invalid(field, "the property %q must not contain NUL characters (U+0000)", key)
		}
		out = append(out, Variable{Name: key, Value: value})
	}
	if _, err := dec.Token(); err != nil {
		return nil, Invalid(field, "is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Invalid(field, "must hold exactly one JSON object")
	}
	return out, nil
}

func scalarText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "", errors.New("is empty")
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("is not a valid string")
		}
		return s, nil
	case raw[0] == '{' || raw[0] == '[':
		return "", errors.New("is nested: only strings, numbers and booleans are allowed")
	case string(raw) == "null":
		return "", errors.New("is null: only strings, numbers and booleans are allowed")
	default:
		return string(raw), nil
	}
}
