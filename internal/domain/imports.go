package domain

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Limits on imported documents (the HTTP layer admits bodies a little larger).
const (
	MaxImportDocumentBytes = 16 << 20
)

// ImportedAction is an action read from an API description, with the key that finds it again
// in the next import of the same description: "operationId:<id>", else "<METHOD> <path>".
type ImportedAction struct {
	Key    string
	Action HTTPAction
}

// ImportedDocument is what an API description yields: actions for a draft, and what belongs
// to the connector (configs, base URL, default variables), which an import only adds.
type ImportedDocument struct {
	Actions   []ImportedAction
	Configs   []AuthSchemeConfig
	BaseURL   *string
	Variables []Variable
	Warnings  []string
}

// ImportResult is the draft an import wrote and what it could not map or kept as it was.
type ImportResult struct {
	Version  *ConnectorVersion
	Warnings []string
}

// ImportSnapshot is what the last import wrote into a draft, per import key: a field whose
// value in the draft differs from it was edited by hand since.
type ImportSnapshot map[string]HTTPAction

// importedFields are the fields of an action an import writes, by name, for the merge.
var importedFields = []struct {
	name string
	get  func(*HTTPAction) any
	set  func(dst, src *HTTPAction)
}{
	{"purpose", func(a *HTTPAction) any { return a.Purpose }, func(d, s *HTTPAction) { d.Purpose = s.Purpose }},
	{"description", func(a *HTTPAction) any { return a.Description }, func(d, s *HTTPAction) { d.Description = s.Description }},
	{"method", func(a *HTTPAction) any { return a.Method }, func(d, s *HTTPAction) { d.Method = s.Method }},
	{"path", func(a *HTTPAction) any { return a.Path }, func(d, s *HTTPAction) { d.Path = s.Path }},
	{"headers", func(a *HTTPAction) any { return a.Headers }, func(d, s *HTTPAction) { d.Headers = s.Headers }},
	{"bodyTemplate", func(a *HTTPAction) any { return a.BodyTemplate }, func(d, s *HTTPAction) { d.BodyTemplate = s.BodyTemplate }},
	{"sampleRequestData", func(a *HTTPAction) any { return a.SampleRequestData }, func(d, s *HTTPAction) { d.SampleRequestData = s.SampleRequestData }},
}

func sameValue(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// MergeImport lays a new import of a description over a draft's actions. An action the last
// import wrote (found through last by its key, then by the name it was given) takes the new
// values, except in fields whose draft value differs from what the last import wrote: those
// were edited by hand and keep the hand value (with a warning when the document now says
// something else). Actions the draft holds that no import wrote stay as they are; an imported
// name that collides with one of them keeps the hand action. Operations the last import wrote
// that the document no longer has are kept and listed. New operations are appended in
// document order. next is the snapshot to keep for the following import.
func MergeImport(current []HTTPAction, last ImportSnapshot, doc []ImportedAction) (merged []HTTPAction, next ImportSnapshot, warnings []string) {
	merged = append([]HTTPAction(nil), current...)
	byName := make(map[string]int, len(merged))
	for i := range merged {
		byName[NameKey(merged[i].Name)] = i
	}
	next = make(ImportSnapshot, len(doc))
	seen := make(map[string]bool, len(doc))
	for _, in := range doc {
		seen[in.Key] = true
		prev, imported := last[in.Key]
		if !imported {
			name := uniqueName(in.Action.Name, byName)
			if name != in.Action.Name {
				warnings = append(warnings, fmt.Sprintf("the draft already has an action %q that this import did not write: operation %s was added as %q", in.Action.Name, in.Key, name))
			}
			in.Action.Name = name
			byName[NameKey(name)] = len(merged)
			merged = append(merged, in.Action)
			next[in.Key] = in.Action
			continue
		}
		i, ok := byName[NameKey(prev.Name)]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("action %q (operation %s) was removed or renamed by hand since the last import; it was not added again", prev.Name, in.Key))
			next[in.Key] = prev
			continue
		}
		draft := &merged[i]
		written := in.Action
		written.Name = draft.Name
		for _, f := range importedFields {
			old, now, doc := f.get(&prev), f.get(draft), f.get(&in.Action)
			if sameValue(old, now) {
				f.set(draft, &in.Action)
				continue
			}
			if !sameValue(now, doc) {
				warnings = append(warnings, fmt.Sprintf("action %q: %s was edited by hand since the last import and keeps its value; the document now says something else", draft.Name, f.name))
			}
			// What the import would have written stays the reference for the next one.
			f.set(&written, &in.Action)
		}
		next[in.Key] = written
	}
	var gone []string
	for key, prev := range last {
		if !seen[key] {
			if _, kept := byName[NameKey(prev.Name)]; kept {
				gone = append(gone, fmt.Sprintf("%q (%s)", prev.Name, key))
				next[key] = prev
			}
		}
	}
	if len(gone) > 0 {
		sort.Strings(gone)
		warnings = append(warnings, fmt.Sprintf("operations gone from the document are kept in the draft; delete them by hand if they are gone for good: %s", strings.Join(gone, ", ")))
	}
	return merged, next, warnings
}

// uniqueName returns name, or name with the first free " (n)" suffix when an action of the
// draft already has it.
func uniqueName(name string, taken map[string]int) string {
	if _, ok := taken[NameKey(name)]; !ok {
		return name
	}
	for n := 2; ; n++ {
		candidate := fmt.Sprintf("%s (%d)", name, n)
		if _, ok := taken[NameKey(candidate)]; !ok {
			return candidate
		}
	}
}

// ConnectorSpec is a connector and one version as a document describes them, for apply.
type ConnectorSpec struct {
	Fields              ConnectorFields
	AuthSchemeConfigs   []AuthSchemeConfig
	ConnectionVariables []Variable
	Version             VersionInput
	Published           bool
}

// ApplyResult is what apply did.
type ApplyResult struct {
	Connector *Connector
	Version   *ConnectorVersion
	// Changed is false when the stored connector and version already said what the
	// document says: nothing was written.
	Changed  bool
	Warnings []string
}
