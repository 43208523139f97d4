//go:build tools

// Package tools pins the Node.js language host as a dependency of this wrapper
// module. The language host is its own module with no tags, so go.mod pins it
// by the pseudo-version of the release commit of the CLI version we build.
package tools

import _ "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3"
