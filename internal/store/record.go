package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// A connector list on PostgreSQL reads each connector's first versions and connections in the
// same statement, as arrays of row values (ARRAY(SELECT ROW(…) … LIMIT n)): PostgreSQL walks
// each connector's index in order, with neither the sorts and window of a batch query nor its
// columns that the parent already holds (connector, organisation), and the page costs one
// round trip instead of three. pgx hands such arrays over in PostgreSQL's binary format, which
// eachRecord decodes straight into a row's fields.

// PostgreSQL type oids of the values records here hold.
const (
	oidBool        = 16
	oidInt8        = 20
	oidInt4        = 23
	oidText        = 25
	oidJSON        = 114
	oidVarchar     = 1043
	oidTimestamp   = 1114
	oidTimestamptz = 1184
	oidJSONB       = 3802
)

var errShortRecord = errors.New("record array ends early")

// binaryReader reads PostgreSQL's binary wire format, remembering the first error.
type binaryReader struct {
	b   []byte
	err error
}

func (r *binaryReader) int32() int32 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 4 {
		r.err = errShortRecord
		return 0
	}
	v := int32(binary.BigEndian.Uint32(r.b))
	r.b = r.b[4:]
	return v
}

// value returns the next length-prefixed value; nil (and no error) for NULL.
func (r *binaryReader) value() []byte {
	n := r.int32()
	if r.err != nil || n < 0 {
		return nil
	}
	if int(n) > len(r.b) {
		r.err = errShortRecord
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// eachRecord decodes a one-dimensional array of records, writing each record's fields into
// dest (in order, as a row's fields method lists them) and calling each after every record.
// A NULL or empty array has no records.
func eachRecord(raw []byte, dest []any, each func() error) error {
	if raw == nil {
		return nil
	}
	r := binaryReader{b: raw}
	dims := r.int32()
	r.int32() // flags: whether some element is NULL; elements say so themselves
	r.int32() // element type
	if r.err != nil {
		return r.err
	}
	if dims == 0 {
		return nil
	}
	if dims != 1 {
		return fmt.Errorf("record array has %d dimensions", dims)
	}
	count := r.int32()
	r.int32() // lower bound
	for i := int32(0); i < count && r.err == nil; i++ {
		rec := binaryReader{b: r.value()}
		if r.err != nil {
			break
		}
		if rec.b == nil {
			return errors.New("record array holds a NULL record")
		}
		if n := rec.int32(); rec.err == nil && int(n) != len(dest) {
			return fmt.Errorf("record has %d fields, want %d", n, len(dest))
		}
		for j := range dest {
			oid := uint32(rec.int32())
			v := rec.value()
			if rec.err != nil {
				return rec.err
			}
			if err := decodeField(oid, v, dest[j]); err != nil {
				return fmt.Errorf("record field %d: %w", j+1, err)
			}
		}
		if err := each(); err != nil {
			return err
		}
	}
	return r.err
}

// postgresEpoch is where binary timestamps count from.
var postgresEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// decodeField stores one binary value of type oid (nil for NULL) into dest.
func decodeField(oid uint32, v []byte, dest any) error {
	switch d := dest.(type) {
	case *string:
		return decodeString(oid, v, d)
	case **string:
		if v == nil {
			*d = nil
			return nil
		}
		var s string
		if err := decodeString(oid, v, &s); err != nil {
			return err
		}
		*d = &s
		return nil
	case *bool:
		if oid != oidBool || len(v) != 1 {
			return fmt.Errorf("want a boolean, got type %d", oid)
		}
		*d = v[0] != 0
		return nil
	case *int:
		switch {
		case oid == oidInt4 && len(v) == 4:
			*d = int(int32(binary.BigEndian.Uint32(v)))
		case oid == oidInt8 && len(v) == 8:
			*d = int(int64(binary.BigEndian.Uint64(v)))
		default:
			return fmt.Errorf("want an integer, got type %d", oid)
		}
		return nil
	case *time.Time:
		return decodeTime(oid, v, d)
	case **time.Time:
		if v == nil {
			*d = nil
			return nil
		}
		var t time.Time
		if err := decodeTime(oid, v, &t); err != nil {
			return err
		}
		*d = &t
		return nil
	}
	return fmt.Errorf("cannot decode into %T", dest)
}

func decodeString(oid uint32, v []byte, d *string) error {
	if v == nil {
		return errors.New("unexpected NULL")
	}
	switch oid {
	case oidText, oidVarchar, oidJSON:
		*d = string(v)
	case oidJSONB:
		// jsonb's binary form is a format version (1) and the document's text.
		if len(v) == 0 || v[0] != 1 {
			return errors.New("unknown jsonb format")
		}
		*d = string(v[1:])
	default:
		return fmt.Errorf("want text, got type %d", oid)
	}
	return nil
}

func decodeTime(oid uint32, v []byte, d *time.Time) error {
	if (oid != oidTimestamptz && oid != oidTimestamp) || len(v) != 8 {
		return fmt.Errorf("want a timestamp, got type %d", oid)
	}
	us := int64(binary.BigEndian.Uint64(v))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return errors.New("infinite timestamp")
	}
	*d = time.Unix(postgresEpoch+us/1e6, us%1e6*1e3).UTC()
	return nil
}
