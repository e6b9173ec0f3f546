package store

import (
	"gorm.io/gorm"

	"github.com/plugboard/plugboard/internal/domain"
)

// nameRule is the uniqueness of names among siblings, compared case-insensitively (name_key).
// It is checked before a write, for a clear message, and the constraint behind it is turned
// into the same message when a concurrent writer passed the same check first.
type nameRule struct {
	table, scope string
	taken        string // the message, with %q for the name
}

var (
	connectorNames  = nameRule{"connectors", "organisation_id", "a connector named %q already exists in this organisation"}
	connectionNames = nameRule{"connections", "connector_id", "the connector already has a connection named %q"}
	versionNames    = nameRule{"connector_versions", "connector_id", "the connector already has a version named %q"}
)

// check fails with BAD_USER_INPUT on name when another row (not id) of the scope has the name.
func (r nameRule) check(tx *gorm.DB, scopeID, id, name string) error {
	var n int64
	err := tx.Table(r.table).Where(r.scope+" = ? AND name_key = ? AND id <> ?", scopeID, domain.NameKey(name), id).Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return domain.Invalid("name", r.taken, name)
	}
	return nil
}

// translate turns a unique-constraint violation of a write into the check's answer.
func (r nameRule) translate(err error, name string) error {
	if _, unique := isUniqueViolation(err); unique {
		return domain.Invalid("name", r.taken, name)
	}
	return err
}
