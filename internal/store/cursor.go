package store

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/plugboard/plugboard/internal/domain"
)

// cursor is the position after which a page starts: the sort key of the last row seen and its
// id, which breaks ties. It is opaque to clients: base64 of the order, key, time and id joined
// by NUL bytes, which none of them can hold (names refuse control characters). Every edge of
// every page carries one, so it is built without JSON.
type cursor struct {
	Order domain.ConnectorOrder
	Key   string
	Time  time.Time
	ID    string
}

func (c cursor) encode() string {
	t := ""
	if !c.Time.IsZero() {
		t = c.Time.UTC().Format(time.RFC3339Nano)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(string(c.Order) + "\x00" + c.Key + "\x00" + t + "\x00" + c.ID))
}

func decodeCursor(field, s string, order domain.ConnectorOrder) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	invalid := domain.Invalid(field, "is not a cursor of this list; use a cursor, startCursor or endCursor returned with the same orderBy")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 4 || domain.ConnectorOrder(parts[0]) != order || parts[3] == "" {
		return nil, invalid
	}
	c := &cursor{Order: order, Key: parts[1], ID: parts[3]}
	if parts[2] != "" {
		t, err := time.Parse(time.RFC3339Nano, parts[2])
		if err != nil {
			return nil, invalid
		}
		c.Time = t.UTC()
	}
	return c, nil
}
