// Command pulumi-resource-docker serves the Pulumi Docker provider, built
// from its Go module for the real-engine tests (scripts/build-engine.sh).
//
// The provider's own main package embeds a schema file that its repository
// generates at release time and does not commit, so a module download cannot
// build it. This one embeds the schema that build-engine.sh writes next to it
// (the module's committed schema.json with its version set).
package main

import (
	_ "embed"

	provider "github.com/pulumi/pulumi-docker/provider/v5"
	"github.com/pulumi/pulumi-docker/provider/v5/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

func main() {
	provider.Serve("docker", version.Version, pulumiSchema)
}
