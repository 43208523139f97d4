//go:build tools

// Package tools pins the Pulumi CLI as a dependency of this wrapper module, so
// that `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` resolves it at
// the version go.mod requires. The CLI's own go.mod cannot be installed with
// `go install module@version` because it carries replace directives; the one
// that matters (clipboard) is repeated in this module's go.mod.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
