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

// fieldsFromInput tells whether Apply's fields depend on the stored row by applying the update
// to two probes; that only works if the probes differ in every field.
func TestFieldsProbesDifferInEveryField(t *testing.T) {
	a, b := reflect.ValueOf(fieldsProbes[0].ConnectorFields), reflect.ValueOf(fieldsProbes[1].ConnectorFields)
	for i := range a.NumField() {
		if reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			t.Errorf("the probes agree on %s: a rule keeping its stored value would go unnoticed", a.Type().Field(i).Name)
		}
	}
}

func TestFieldsFromInput(t *testing.T) {
	in := domain.ConnectorUpdate{Fields: domain.ConnectorFields{Name: "n", ProtocolType: domain.ProtocolHTTP}, ExpectedRevision: ptrTo(7)}
	got, ok := fieldsFromInput(in)
	if !ok || got.Name != "n" || got.Description != nil || got.Categories != nil {
		t.Errorf("an update of the fields alone follows from its input: %+v %v", got, ok)
	}
	if _, ok := fieldsFromInput(domain.ConnectorUpdate{Fields: in.Fields, AuthSchemeConfigIDs: &[]string{"a"}}); ok {
		t.Error("a reorder of configs the probes do not have cannot be applied to them")
	}
}
