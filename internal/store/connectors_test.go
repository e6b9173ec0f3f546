package store

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/plugboard/plugboard/internal/domain"
)

// An update writes the columns of the fields ChangedFields names (connectorSetOf); it must know
// every field of domain.ConnectorFields, or updates of the unknown one write every column.
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
