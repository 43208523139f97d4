// Command pulumi-resource-github serves the Pulumi GitHub provider, built
// from its Go module for the real-engine tests (scripts/build-engine.sh).
//
// As with the Docker provider, the provider's main package embeds a schema
// file generated at release time that a module download does not carry; this
// one embeds the schema build-engine.sh writes next to it (the module's
// committed schema.json with its version set).
package main

import (
	_ "embed"

	github "github.com/pulumi/pulumi-github/provider/v6"
	"github.com/pulumi/pulumi-github/provider/v6/pkg/version"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
)

//go:embed schema-embed.json
var pulumiSchema []byte

func main() {
	tfbridge.Main("github", version.Version, github.Provider(), pulumiSchema)
}
