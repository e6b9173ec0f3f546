package domain

import (
	"fmt"
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NameKey is the form in which names are compared for uniqueness within their scope
// (connectors in an organisation, connections and versions of a connector, actions of a
// version, auth scheme configs of a connector, variables of a list): NFKC, case folded,
// without default-ignorable characters, and NFKC again (folding can undo a normalization).
// "Café" composed and decomposed, full-width "Ｂａｓｅ" and "Ba\u200bse" all give the key of
// their plain spelling, so look-alikes cannot coexist. Lookups still match names exactly;
// the key only decides what counts as taken. Stored keys (name_key columns) follow this
// function: changing it needs a migration that recomputes them (as 00006 did).
func NameKey(name string) string {
	// The transformers keep state, so each call has its own chain.
	key, _, err := transform.String(transform.Chain(norm.NFKC, cases.Fold(), runes.Remove(runes.Predicate(defaultIgnorable)), norm.NFKC), name)
	if err != nil {
		// Only invalid UTF-8 can fail, which CheckText refuses before names get here.
		key = strings.ToValidUTF8(name, "\uFFFD")
	}
	return strings.TrimSpace(key)
}

// alreadyUsed is the message for a name that takes the key of an earlier one: the same name,
// or a look-alike of it.
func alreadyUsed(name, earlier, kind, where string) string {
	if name == earlier {
		return fmt.Sprintf("%q is already the %s of %s", name, kind, where)
	}
	return fmt.Sprintf("%q counts as the same %s as %q of %s: %ss must differ by more than letter case, character width or invisible characters", name, kind, earlier, where, kind)
}

// defaultIgnorable is Unicode's derived Default_Ignorable_Code_Point property (characters
// that render as nothing: zero-width spaces and joiners, soft hyphens, variation selectors,
// tag characters…), built from the properties it is derived from as DerivedCoreProperties.txt
// states, since neither Go nor golang.org/x/text export it:
// Other_Default_Ignorable_Code_Point + Cf + Variation_Selector − White_Space − FFF9..FFFB
// (interlinear annotation) − 13430..1343F (Egyptian hieroglyph format controls) −
// Prepended_Concatenation_Mark.
func defaultIgnorable(r rune) bool {
	switch {
	case r >= 0xFFF9 && r <= 0xFFFB, r >= 0x13430 && r <= 0x1343F,
		unicode.In(r, unicode.White_Space, unicode.Prepended_Concatenation_Mark):
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}

// collators compute sort keys; a Collator is not safe for concurrent use.
var collators = sync.Pool{New: func() any { return &collator{c: collate.New(language.Und)} }}

type collator struct {
	c   *collate.Collator
	buf collate.Buffer
}

// SortKey orders names as people expect, by the Unicode Collation Algorithm's root order
// (CLDR, golang.org/x/text/collate): "Eagle" < "Émile" < "Zulu", where bytes put "Émile" after
// "Zulu". The key is bytes that compare bytewise, so PostgreSQL (bytea) and SQLite (BLOB)
// order rows by it alike, whatever their own collations; the key depends on x/text's tables,
// so an upgrade that changes them should recompute stored keys (store.RecomputeNameKeys).
func SortKey(name string) []byte {
	c := collators.Get().(*collator)
	defer collators.Put(c)
	key := c.c.KeyFromString(&c.buf, name)
	out := make([]byte, len(key))
	copy(out, key)
	c.buf.Reset()
	return out
}
