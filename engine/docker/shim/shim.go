// Package shim is the one symbol pulumi-docker expects the bridged Terraform
// provider to export. pulumi-docker adds it to its upstream copy with a patch;
// this module supplies it instead, so the upstream can come unpatched from the
// Go module proxy. Go allows the internal import: the path shares its root.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the upstream Terraform provider that the bridge wraps.
func NewProvider() *schema.Provider {
	return provider.New("dev")()
}
