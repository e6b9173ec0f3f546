package domain

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
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

// VersionContents is what a version holds, as compared: the version and its triggers, which
// the store reads apart from the version (they are not on the hot path's reads).
type VersionContents struct {
	*ConnectorVersion
	Triggers []Trigger
}

// versionParts compare one part of what a version holds each. configs are the connector's,
// shared by both versions: they name the configs triggers point at by key.
var versionParts = []func(from, to VersionContents, configs []AuthSchemeConfig) []VersionChange{
	diffActions,
	diffTriggers,
	diffOutboundPolicy,
}

// CompareVersions lists what changes from version from to version to, two versions of one
// connector whose auth scheme configs are configs.
func CompareVersions(from, to VersionContents, configs []AuthSchemeConfig) VersionDiff {
	d := VersionDiff{Changes: []VersionChange{}}
	for _, part := range versionParts {
		for _, c := range part(from, to, configs) {
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
func diffActions(from, to VersionContents, _ []AuthSchemeConfig) []VersionChange {
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
	for _, name := range slices.Sorted(maps.Keys(after)) {
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
	for _, name := range slices.Sorted(maps.Keys(before)) {
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

func triggerPath(name string) string { return fmt.Sprintf("triggers[%q]", name) }

// diffTriggers matches triggers by name, as hooks are: a connection's webhook URL names its
// trigger, and the provider pointed at it keeps sending there. A trigger removed (or renamed)
// makes those deliveries answer 404, and another verifying config makes them fail the
// signature check until the connection's TRIGGER credentials are set for it: both are
// breaking. A trigger added breaks no one.
func diffTriggers(from, to VersionContents, configs []AuthSchemeConfig) []VersionChange {
	var changes []VersionChange
	for _, a := range from.Triggers {
		b := FindTrigger(to.Triggers, a.Name)
		if b == nil {
			changes = append(changes, VersionChange{ChangeRemoved, triggerPath(a.Name), true,
				fmt.Sprintf("trigger %q is removed: deliveries to its webhook URLs are refused", a.Name)})
			continue
		}
		if a.AuthSchemeConfigID != b.AuthSchemeConfigID {
			changes = append(changes, VersionChange{ChangeChanged, triggerPath(a.Name) + ".authSchemeConfig", true,
				fmt.Sprintf("trigger %q is verified by auth scheme config %q instead of %q: deliveries fail until its secrets are set",
					a.Name, configKey(configs, b.AuthSchemeConfigID), configKey(configs, a.AuthSchemeConfigID))})
		}
		if !sameValue(a.Description, b.Description) {
			changes = append(changes, VersionChange{ChangeChanged, triggerPath(a.Name) + ".description", false, "description changes"})
		}
	}
	for _, b := range to.Triggers {
		if FindTrigger(from.Triggers, b.Name) == nil {
			changes = append(changes, VersionChange{ChangeAdded, triggerPath(b.Name), false,
				fmt.Sprintf("trigger %q is added, verified by auth scheme config %q", b.Name, configKey(configs, b.AuthSchemeConfigID))})
		}
	}
	return changes
}

// configKey is the key of the config with global id id, or the id when the connector no
// longer has it.
func configKey(configs []AuthSchemeConfig, id string) string {
	if i := FindAuthSchemeConfig(configs, id); i >= 0 {
		return configs[i].Key
	}
	return id
}

func diffOutboundPolicy(from, to VersionContents, _ []AuthSchemeConfig) []VersionChange {
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
