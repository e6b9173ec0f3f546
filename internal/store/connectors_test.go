package store

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

// The statement that replaces a connector's fields names the changed ones itself; it must know
// every field of domain.ConnectorFields, in ChangedFields' order.
func TestConnectorFieldColumnsFollowTheDomain(t *testing.T) {
	typ := reflect.TypeFor[domain.ConnectorFields]()
	var want, got []string
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		want = append(want, name)
	}
	for _, f := range connectorFieldColumns {
		if !f.derived {
			got = append(got, f.field)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("connectorFieldColumns name %v, domain.ConnectorFields has %v", got, want)
	}
}
