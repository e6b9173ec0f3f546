package domain

import "testing"

func TestFieldMessage(t *testing.T) {
	for _, tc := range []struct{ field, message, want string }{
		{"name", "is required", "name is required"},
		{"connectionVariables[1].name", "must be 1–64 characters on one line", "connectionVariables[1].name must be 1–64 characters on one line"},
		{"last", "cannot be combined with first", "last cannot be combined with first"},
		{"name", `an organisation named "Acme" already exists`, `name: an organisation named "Acme" already exists`},
		{"first", "a list cannot be used as Int", "first: a list cannot be used as Int"},
	} {
		if got := FieldMessage(tc.field, tc.message); got != tc.want {
			t.Errorf("FieldMessage(%q, %q) = %q, want %q", tc.field, tc.message, got, tc.want)
		}
		if got := Invalid(tc.field, "%s", tc.message).Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
