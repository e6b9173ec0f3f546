package domain

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// ChangeKind says whether a part of a version was added, removed or changed.
type ChangeKind string

// The kinds of change.
const (
	ChangeAdded   ChangeKind = "ADDED"
	ChangeRemoved ChangeKind = "REMOVED"
	ChangeChanged ChangeKind = "CHANGED"
)

// VersionChange is one difference between two versions. Path names the part the way a
// client would reach it, such as actions["List customers"].method.
type VersionChange struct {
	Kind        ChangeKind
	Path        string
	Breaking    bool
	Description string
}

// VersionDiff is what changes from one version to another; Breaking when a client of the
// first could fail against the second.
type VersionDiff struct {
	Breaking bool
	Changes  []VersionChange
}

// versionParts compare one part of what a version holds each. Triggers, once versions have
// them, are one more function here.
var versionParts = []func(from, to *ConnectorVersion) []VersionChange{
	diffActions,
	diffOutboundPolicy,
}

// CompareVersions lists what changes from version from to version to.
func CompareVersions(from, to *ConnectorVersion) VersionDiff {
	d := VersionDiff{Changes: []VersionChange{}}
	for _, part := range versionParts {
		for _, c := range part(from, to) {
			d.Breaking = d.Breaking || c.Breaking
			d.Changes = append(d.Changes, c)
		}
	}
	return d
}

// BreakingChanges describes the breaking changes of d in one line, at most five of them.
func (d VersionDiff) BreakingChanges() string {
	var parts []string
	for _, c := range d.Changes {
		if c.Breaking {
			parts = append(parts, c.Path+" "+strings.ToLower(string(c.Kind)))
		}
	}
	if len(parts) > 5 {
		parts = append(parts[:5], fmt.Sprintf("and %d more", len(parts)-5))
	}
	return strings.Join(parts, ", ")
}

func actionPath(name string) string { return fmt.Sprintf("actions[%q]", name) }

// diffActions matches actions by name. An action that disappears while another with the same
// method and path appears was renamed: breaking, like a removal, for callers that name it.
func diffActions(from, to *ConnectorVersion) []VersionChange {
	var changes []VersionChange
	old := map[string]*HTTPAction{}
	for i := range from.Actions {
		old[from.Actions[i].Name] = &from.Actions[i]
	}
	now := map[string]*HTTPAction{}
	for i := range to.Actions {
		now[to.Actions[i].Name] = &to.Actions[i]
	}
	renamedTo := map[string]string{}
	renamedFrom := map[string]bool{}
	for i := range from.Actions {
		a := &from.Actions[i]
		if now[a.Name] != nil {
			continue
		}
		for j := range to.Actions {
			b := &to.Actions[j]
			if old[b.Name] == nil && !renamedFrom[b.Name] && b.Method == a.Method && b.Path == a.Path {
				renamedTo[a.Name], renamedFrom[b.Name] = b.Name, true
				break
			}
		}
	}
	for i := range from.Actions {
		a := &from.Actions[i]
		b := now[a.Name]
		if b == nil {
			if newName, ok := renamedTo[a.Name]; ok {
				changes = append(changes, VersionChange{ChangeChanged, actionPath(a.Name) + ".name", true,
					fmt.Sprintf("action %q is renamed %q: callers that name it fail", a.Name, newName)})
				b = now[newName]
			} else {
				changes = append(changes, VersionChange{ChangeRemoved, actionPath(a.Name), true, fmt.Sprintf("action %q is removed", a.Name)})
				continue
			}
		}
		changes = append(changes, diffAction(a, b)...)
	}
	for i := range to.Actions {
		b := &to.Actions[i]
		if old[b.Name] == nil && !renamedFrom[b.Name] {
			changes = append(changes, VersionChange{ChangeAdded, actionPath(b.Name), false, fmt.Sprintf("action %q is added", b.Name)})
		}
	}
	return changes
}

func diffAction(a, b *HTTPAction) []VersionChange {
	p := actionPath(b.Name)
	var changes []VersionChange
	if a.Method != b.Method {
		changes = append(changes, VersionChange{ChangeChanged, p + ".method", true, fmt.Sprintf("method %s becomes %s", a.Method, b.Method)})
	}
	if a.Path != b.Path {
		changes = append(changes, VersionChange{ChangeChanged, p + ".path", true, fmt.Sprintf("path %s becomes %s", a.Path, b.Path)})
	}
	for _, f := range importedFields {
		switch f.name {
		case "method", "path":
			continue
		}
		if !sameValue(f.get(a), f.get(b)) {
			changes = append(changes, VersionChange{ChangeChanged, p + "." + f.name, false, f.name + " changes"})
		}
	}
	before, after := Placeholders(a), Placeholders(b)
	for _, name := range sortedKeys(after) {
		required := after[name]
		wasRequired, had := before[name]
		switch {
		case !had:
			changes = append(changes, VersionChange{ChangeAdded, fmt.Sprintf("%s.placeholders[%q]", p, name), required,
				placeholderWords(name, required) + " is added"})
		case required && !wasRequired:
			changes = append(changes, VersionChange{ChangeChanged, fmt.Sprintf("%s.placeholders[%q]", p, name), true,
				fmt.Sprintf("placeholder {{%s}} becomes required", name)})
		case !required && wasRequired:
			changes = append(changes, VersionChange{ChangeChanged, fmt.Sprintf("%s.placeholders[%q]", p, name), false,
				fmt.Sprintf("placeholder {{%s}} becomes optional", name)})
		}
	}
	for _, name := range sortedKeys(before) {
		if _, ok := after[name]; !ok {
			changes = append(changes, VersionChange{ChangeRemoved, fmt.Sprintf("%s.placeholders[%q]", p, name), false,
				fmt.Sprintf("placeholder {{%s}} is no longer used", name)})
		}
	}
	return changes
}

func placeholderWords(name string, required bool) string {
	if required {
		return fmt.Sprintf("required placeholder {{%s}}", name)
	}
	return fmt.Sprintf("optional placeholder {{%s?}}", name)
}

func diffOutboundPolicy(from, to *ConnectorVersion) []VersionChange {
	if sameValue(from.OutboundPolicy, to.OutboundPolicy) {
		return nil
	}
	kind := ChangeChanged
	switch {
	case from.OutboundPolicy == nil:
		kind = ChangeAdded
	case to.OutboundPolicy == nil:
		kind = ChangeRemoved
	}
	return []VersionChange{{kind, "outboundPolicy", false, "the outbound policy (retries, rate budget) changes"}}
}

// placeholderUse finds {{name}} and {{name?}}, the optional form.
var placeholderUse = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)(\?)?\s*\}\}`)

// Placeholders returns the placeholders an action uses, each with whether it is required: a
// name used anywhere without '?' is required.
func Placeholders(a *HTTPAction) map[string]bool {
	out := map[string]bool{}
	add := func(s string) {
		for _, m := range placeholderUse.FindAllStringSubmatch(s, -1) {
			out[m[1]] = out[m[1]] || m[2] == ""
		}
	}
	add(a.Path)
	for _, h := range a.Headers {
		add(h.Value)
	}
	if a.BodyTemplate != nil {
		add(*a.BodyTemplate)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
