package opcache

import (
	"strconv"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

func TestGetComputesOncePerValues(t *testing.T) {
	c := New[string](2, func(*ast.OperationDefinition) []string { return []string{"n"} })
	a, b, evicted := &ast.OperationDefinition{}, &ast.OperationDefinition{}, &ast.OperationDefinition{}
	calls := 0
	get := func(op *ast.OperationDefinition, n any) string {
		return c.Get(op, map[string]any{"n": n, "other": calls}, func() string {
			calls++
			return "computed " + strconv.Itoa(calls)
		})
	}
	for _, tc := range []struct {
		op        *ast.OperationDefinition
		n         any
		want      string
		wantCalls int
	}{
		{a, 1, "computed 1", 1},
		{a, 1, "computed 1", 1}, // other variables do not matter
		{a, 2, "computed 2", 2},
		{b, 1, "computed 3", 3}, // per operation
		{a, nil, "computed 4", 4},
		{a, 2, "computed 2", 4},
		{evicted, 1, "computed 5", 5}, // the cache holds two operations: b goes
		{b, 1, "computed 6", 6},
	} {
		if got := get(tc.op, tc.n); got != tc.want || calls != tc.wantCalls {
			t.Fatalf("n=%v: %q after %d computations, want %q after %d", tc.n, got, calls, tc.want, tc.wantCalls)
		}
	}
}

func TestGetBoundsValuesPerOperation(t *testing.T) {
	c := New[int](1, func(*ast.OperationDefinition) []string { return []string{"n"} })
	op := &ast.OperationDefinition{}
	calls := 0
	for round := 0; round < 2; round++ {
		for n := range maxValuesPerOperation + 10 {
			if got := c.Get(op, map[string]any{"n": n}, func() int { calls++; return n }); got != n {
				t.Fatalf("n=%d: got %d", n, got)
			}
		}
	}
	if want := maxValuesPerOperation + 20; calls != want {
		t.Errorf("%d computations, want %d: the first %d values kept, the rest computed each time", calls, want, maxValuesPerOperation)
	}
}

func TestVariables(t *testing.T) {
	v := &ast.Value{Kind: ast.ObjectValue, Children: ast.ChildValueList{
		{Name: "a", Value: &ast.Value{Kind: ast.Variable, Raw: "x"}},
		{Name: "b", Value: &ast.Value{Kind: ast.ListValue, Children: ast.ChildValueList{
			{Value: &ast.Value{Kind: ast.Variable, Raw: "y"}}, {Value: &ast.Value{Kind: ast.Variable, Raw: "x"}}, {Value: &ast.Value{Kind: ast.IntValue, Raw: "1"}},
		}}},
	}}
	if got := Variables(v, []string{"w"}); len(got) != 3 || got[0] != "w" || got[1] != "x" || got[2] != "y" {
		t.Errorf("Variables = %v, want [w x y]", got)
	}
}
