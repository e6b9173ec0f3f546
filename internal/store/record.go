package store

import (
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

// binaryReader reads PostgreSQL's binary wire format, remembering the first error. It reads a
// string so that text values are substrings of it rather than one allocation each.
type binaryReader struct {
	s   string
	err error
}

func (r *binaryReader) int32() int32 {
	if r.err != nil {
		return 0
	}
	if len(r.s) < 4 {
		r.err = errShortRecord
		return 0
	}
	v := int32(bigEndian32(r.s))
	r.s = r.s[4:]
	return v
}

// value returns the next length-prefixed value, and false for NULL.
func (r *binaryReader) value() (string, bool) {
	n := r.int32()
	if r.err != nil || n < 0 {
		return "", false
	}
	if int(n) > len(r.s) {
		r.err = errShortRecord
		return "", false
	}
	v := r.s[:n]
	r.s = r.s[n:]
	return v, true
}

func bigEndian32(s string) uint32 {
	return uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
}

func bigEndian64(s string) uint64 {
	return uint64(bigEndian32(s))<<32 | uint64(bigEndian32(s[4:]))
}

// eachRecord decodes a one-dimensional array of records, writing each record's fields into
// dest (in order, as a row's fields method lists them) and calling each after every record.
// A NULL or empty array has no records. Decoded text shares raw's memory.
func eachRecord(raw string, null bool, dest []any, each func() error) error {
	if null {
		return nil
	}
	r := binaryReader{s: raw}
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
		v, ok := r.value()
		if r.err != nil {
			break
		}
		if !ok {
			return errors.New("record array holds a NULL record")
		}
		rec := binaryReader{s: v}
		if n := rec.int32(); rec.err == nil && int(n) != len(dest) {
			return fmt.Errorf("record has %d fields, want %d", n, len(dest))
		}
		for j := range dest {
			oid := uint32(rec.int32())
			v, ok := rec.value()
			if rec.err != nil {
				return rec.err
			}
			if err := decodeField(oid, v, ok, dest[j]); err != nil {
				return fmt.Errorf("record field %d: %w", j+1, err)
			}
		}
		if err := each(); err != nil {
			return err
		}
	}
	return r.err
}

// skipped is the destination of a record field that was left out (NULL in its place).
type skipped struct{}

// unlessSkipped is dest when keep holds, otherwise skipped.
func unlessSkipped(dest any, keep bool) any {
	if keep {
		return dest
	}
	return skipped{}
}

// postgresEpoch is where binary timestamps count from.
var postgresEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// decodeField stores one binary value of type oid (present false for NULL) into dest.
func decodeField(oid uint32, v string, present bool, dest any) error {
	switch d := dest.(type) {
	case skipped:
		return nil
	case *string:
		if !present {
			return errors.New("unexpected NULL")
		}
		return decodeString(oid, v, d)
	case **string:
		if !present {
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
			*d = int(int32(bigEndian32(v)))
		case oid == oidInt8 && len(v) == 8:
			*d = int(int64(bigEndian64(v)))
		default:
			return fmt.Errorf("want an integer, got type %d", oid)
		}
		return nil
	case *time.Time:
		if !present {
			return errors.New("unexpected NULL")
		}
		return decodeTime(oid, v, d)
	case **time.Time:
		if !present {
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

func decodeString(oid uint32, v string, d *string) error {
	switch oid {
	case oidText, oidVarchar, oidJSON:
		*d = v
	case oidJSONB:
		// jsonb's binary form is a format version (1) and the document's text.
		if len(v) == 0 || v[0] != 1 {
			return errors.New("unknown jsonb format")
		}
		*d = v[1:]
	default:
		return fmt.Errorf("want text, got type %d", oid)
	}
	return nil
}

func decodeTime(oid uint32, v string, d *time.Time) error {
	if (oid != oidTimestamptz && oid != oidTimestamp) || len(v) != 8 {
		return fmt.Errorf("want a timestamp, got type %d", oid)
	}
	us := int64(bigEndian64(v))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return errors.New("infinite timestamp")
	}
	*d = time.Unix(postgresEpoch+us/1e6, us%1e6*1e3).UTC()
	return nil
}
