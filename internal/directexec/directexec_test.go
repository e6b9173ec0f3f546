package directexec

import (
	"bytes"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/plugboard/plugboard/graph/scalars"
)

func marshalled(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.String()
}

// TestWritersMarshalLikeGqlgen: the scalar models internal/directgen writes directly give
// the bytes of gqlgen's marshallers (and plugboard's scalars, which wrap them).
func TestWritersMarshalLikeGqlgen(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" backslash \\ tab \t newline \n cr \r bell \x07 nul \x00 del \x7f", "é 😀 <>&", "\u2028\u2029", string([]byte{0xff, 0xfe})} {
		var x Run
		x.Str(s)
		for name, want := range map[string]string{"graphql": marshalled(graphql.MarshalString(s)), "scalars": marshalled(scalars.MarshalString(s)), "id": marshalled(graphql.MarshalID(s))} {
			if string(x.B) != want {
				t.Errorf("Str(%q) = %s, %s marshals %s", s, x.B, name, want)
			}
		}
	}
	for _, i := range []int{0, -1, 1 << 31, -(1 << 31)} {
		var x Run
		x.Int(i)
		if want := marshalled(scalars.MarshalInt(i)); string(x.B) != want {
			t.Errorf("Int(%d) = %s, want %s", i, x.B, want)
		}
	}
	for _, v := range []bool{false, true} {
		var x Run
		x.Bool(v)
		if want := marshalled(scalars.MarshalBoolean(v)); string(x.B) != want {
			t.Errorf("Bool(%v) = %s, want %s", v, x.B, want)
		}
	}
	for _, tm := range []time.Time{time.Date(2026, 11, 29, 14, 0, 0, 123456789, time.UTC), time.Date(1999, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), {}} {
		var x Run
		x.Time(tm, true)
		if want := marshalled(graphql.MarshalTime(tm)); string(x.B) != want {
			t.Errorf("Time(%v) = %s, want %s", tm, x.B, want)
		}
	}
}
