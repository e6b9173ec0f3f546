package store

import (
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

// cursor is the position after which a page starts: the sort key of the last row seen and its
// id, which breaks ties. It is opaque to clients (base64 of JSON).
type cursor struct {
	Order domain.ConnectorOrder `json:"o"`
	Key   string                `json:"k,omitempty"`
	Time  time.Time             `json:"t,omitzero"`
	ID    string                `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, order domain.ConnectorOrder) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	invalid := domain.Invalid("after", "is not a cursor of this list; use an endCursor or cursor returned with the same orderBy")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Order != order || c.ID == "" {
		return nil, invalid
	}
	c.Time = c.Time.UTC()
	return &c, nil
}
