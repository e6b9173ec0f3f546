package domain

import (
	"bytes"
	"slices"
	"testing"
)

func TestNameKey(t *testing.T) {
	cases := []struct {
		name, a, b string
		same       bool
	}{
		{"LetterCase", "Stripe", "STRIPE", true},
		{"ComposedDecomposed", "Caf\u00e9", "Cafe\u0301", true},
		{"FullWidth", "\uff22\uff41\uff53\uff45", "Base", true},
		{"ZeroWidthSpace", "Ba\u200bse", "Base", true},
		{"SoftHyphen", "Ba\u00adse", "Base", true},
		{"VariationSelector", "Base\ufe0f", "Base", true},
		{"Ligature", "\ufb01le", "file", true},
		{"SharpS", "Stra\u00dfe", "STRASSE", true},
		{"SurroundingSpace", "  Base ", "base", true},
		{"AccentDiffers", "Café", "Cafe", false},
		{"InnerSpaceDiffers", "Ba se", "Base", false},
		// Arabic number signs are Cf but visible (Prepended_Concatenation_Mark): they count.
		{"PrependedConcatenationMark", "\u0600Base", "Base", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NameKey(tc.a) == NameKey(tc.b); got != tc.same {
				t.Fatalf("NameKey(%q) = %q, NameKey(%q) = %q: same = %v, want %v", tc.a, NameKey(tc.a), tc.b, NameKey(tc.b), got, tc.same)
			}
			if k := NameKey(tc.a); NameKey(k) != k {
				t.Fatalf("NameKey is not idempotent on %q: %q -> %q", tc.a, k, NameKey(k))
			}
		})
	}
}

func TestSortKey(t *testing.T) {
	want := []string{"apple", "Eagle", "eagles", "Émile", "Zulu", "Ωmega"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, func(a, b string) int { return bytes.Compare(SortKey(a), SortKey(b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("sorted by SortKey: %q, want %q", got, want)
	}
}

// TestLookAlikeDuplicates: each list refuses a second name that is a look-alike of an earlier
// one, where it accepted them when names were compared by lower case only.
func TestLookAlikeDuplicates(t *testing.T) {
	const composed, decomposed = "Caf\u00e9", "Cafe\u0301"
	cases := []struct {
		name  string
		check func() error
		field string
	}{
		{"Variables", func() error {
			return ValidateVariables("v", []Variable{{Name: "Base"}, {Name: "\uff22\uff41\uff53\uff45"}})
		}, ""}, // full-width letters are no variable name at all
		{"VariablesCase", func() error {
			return ValidateVariables("v", []Variable{{Name: "Region"}, {Name: "region"}})
		}, "v[1].name"},
		{"Actions", func() error {
			in := VersionInput{Name: "1.0", Actions: []HTTPAction{
				{Name: composed, Method: MethodGet, Path: "/a"}, {Name: decomposed, Method: MethodGet, Path: "/b"}}}
			return in.Validate()
		}, "actions[1].name"},
		{"ActionsZeroWidth", func() error {
			in := VersionInput{Name: "1.0", Actions: []HTTPAction{
				{Name: "List", Method: MethodGet, Path: "/a"}, {Name: "Li\u200bst", Method: MethodGet, Path: "/b"}}}
			return in.Validate()
		}, "actions[1].name"},
		{"ConfigIDs", func() error {
			return ValidateAuthSchemeConfigs("c", []AuthSchemeConfig{{Key: "oauth", SchemeType: SchemeNone}, {Key: "OAuth", SchemeType: SchemeNone}})
		}, "c[1].id"},
		{"MergeNewLookAlike", func() error {
			_, err := MergeProperties([]Variable{{Name: "Region", Value: "eu"}}, []Property{{Name: "REGION", Value: "us"}}, nil, ValidateVariableName)
			return err
		}, "properties[0].name"},
		{"MergeDynamicLookAlike", func() error {
			d := `{"Timeout": "1s", "timeout": "2s"}`
			_, err := MergeProperties(nil, nil, &d, ValidateVariableName)
			return err
		}, "dynamicProperties"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check()
			if tc.field == "" {
				if ErrorCode(err) != CodeBadUserInput {
					t.Fatalf("want BAD_USER_INPUT, got %v", err)
				}
				return
			}
			if e, ok := err.(*Error); !ok || e.Code != CodeBadUserInput || e.Field != tc.field {
				t.Fatalf("want BAD_USER_INPUT on %s, got %#v", tc.field, err)
			}
		})
	}
	// Exact names still merge: lookups match names exactly.
	merged, err := MergeProperties([]Variable{{Name: "Region", Value: "eu"}}, []Property{{Name: "Region", Value: "us"}}, nil, ValidateVariableName)
	if err != nil || len(merged) != 1 || merged[0].Value != "us" {
		t.Fatalf("exact merge: %v %v", merged, err)
	}
}

func TestReservedVersionNameLookAlikes(t *testing.T) {
	for _, name := range []string{"latest", " Default ", "\uff4c\uff41\uff54\uff45\uff53\uff54", "def\u200bault", "LATEST\ufe0f"} {
		if !IsReservedVersionName(name) {
			t.Errorf("%q must be reserved", name)
		}
		if err := ValidateVersionName("name", name); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("%q: want BAD_USER_INPUT, got %v", name, err)
		}
	}
}
