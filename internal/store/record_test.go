package store

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
)

// field is one value of an encoded record: its type and bytes (nil for NULL).
type field struct {
	oid uint32
	v   []byte
}

func be32(i int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

func value(v []byte) []byte {
	if v == nil {
		return be32(-1)
	}
	return append(be32(int32(len(v))), v...)
}

// recordArray encodes records the way PostgreSQL's array_send and record_send do.
func recordArray(records ...[]field) []byte {
	b := append(be32(1), be32(0)...)
	b = append(b, be32(2249)...) // record
	b = append(b, be32(int32(len(records)))...)
	b = append(b, be32(1)...)
	for _, r := range records {
		rec := be32(int32(len(r)))
		for _, f := range r {
			rec = append(rec, be32(int32(f.oid))...)
			rec = append(rec, value(f.v)...)
		}
		b = append(b, value(rec)...)
	}
	return b
}

func timestamp(t time.Time) []byte {
	us := t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Microseconds()
	return binary.BigEndian.AppendUint64(nil, uint64(us))
}

func TestEachRecordDecodes(t *testing.T) {
	at := time.Date(1999, 12, 31, 23, 59, 59, 123456000, time.UTC) // before the epoch: negative
	later := time.Date(2026, 11, 23, 10, 0, 0, 1000, time.UTC)
	raw := recordArray(
		[]field{{oidText, []byte("v1 \"odd\" {,}\\")}, {oidText, nil}, {oidJSONB, append([]byte{1}, `[{"a":1}]`...)}, {oidBool, []byte{1}},
			{oidInt4, be32(-7)}, {oidTimestamptz, timestamp(at)}, {oidTimestamptz, nil}},
		[]field{{oidVarchar, []byte("")}, {oidText, []byte("d")}, {oidText, []byte("[]")}, {oidBool, []byte{0}},
			{oidInt8, binary.BigEndian.AppendUint64(nil, 1<<40)}, {oidTimestamptz, timestamp(later)}, {oidTimestamptz, timestamp(later)}},
	)
	type decoded struct {
		name    string
		desc    *string
		doc     string
		flag    bool
		n       int
		at      time.Time
		maybeAt *time.Time
	}
	var d decoded
	var got []decoded
	dest := []any{&d.name, &d.desc, &d.doc, &d.flag, &d.n, &d.at, &d.maybeAt}
	if err := eachRecord(string(raw), raw == nil, dest, func() error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d records", len(got))
	}
	first, second := got[0], got[1]
	if first.name != "v1 \"odd\" {,}\\" || first.desc != nil || first.doc != `[{"a":1}]` || !first.flag || first.n != -7 ||
		!first.at.Equal(at) || first.maybeAt != nil {
		t.Errorf("first record: %+v", first)
	}
	if second.name != "" || second.desc == nil || *second.desc != "d" || second.doc != "[]" || second.flag || second.n != 1<<40 ||
		!second.at.Equal(later) || second.maybeAt == nil || !second.maybeAt.Equal(later) {
		t.Errorf("second record: %+v", second)
	}
	for _, empty := range [][]byte{nil, append(append(be32(0), be32(0)...), be32(2249)...)} {
		calls := 0
		if err := eachRecord(string(empty), empty == nil, dest, func() error { calls++; return nil }); err != nil || calls != 0 {
			t.Errorf("empty array: %d records, %v", calls, err)
		}
	}
}

func TestEachRecordRejects(t *testing.T) {
	good := []field{{oidText, []byte("x")}, {oidBool, []byte{1}}}
	whole := recordArray(good)
	var s string
	var b bool
	var tm time.Time
	twoDims := append(be32(2), whole[4:]...)
	cases := []struct {
		name string
		raw  []byte
		dest []any
		want string
	}{
		{"Truncated", whole[:len(whole)-1], []any{&s, &b}, "ends early"},
		{"TruncatedHeader", whole[:10], []any{&s, &b}, "ends early"},
		{"TwoDimensions", twoDims, []any{&s, &b}, "2 dimensions"},
		{"FieldCount", whole, []any{&s}, "2 fields, want 1"},
		{"WrongType", recordArray([]field{{oidInt4, be32(1)}, {oidBool, []byte{1}}}), []any{&s, &b}, "want text"},
		{"NullIntoString", recordArray([]field{{oidText, nil}, {oidBool, []byte{1}}}), []any{&s, &b}, "unexpected NULL"},
		{"NullRecord", append(append(append(be32(1), be32(0)...), be32(2249)...), append(append(be32(1), be32(1)...), be32(-1)...)...), []any{&s, &b}, "NULL record"},
		{"BadJSONB", recordArray([]field{{oidJSONB, []byte{2, '[', ']'}}, {oidBool, []byte{1}}}), []any{&s, &b}, "jsonb"},
		{"Infinity", recordArray([]field{{oidTimestamptz, binary.BigEndian.AppendUint64(nil, math.MaxInt64)}}), []any{&tm}, "infinite"},
		{"Destination", recordArray([]field{{oidText, []byte("x")}}), []any{&[]byte{}}, "cannot decode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := eachRecord(string(tc.raw), tc.raw == nil, tc.dest, func() error { return nil })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
