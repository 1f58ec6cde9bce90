// composecheck validates a Compose file the way `docker compose config` does (compose-go, the library
// Docker Compose itself uses), for machines without the Docker Compose plugin.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: composecheck path/to/compose.yaml")
		os.Exit(2)
	}
	path, _ := filepath.Abs(os.Args[1])
	options, err := cli.NewProjectOptions([]string{path}, cli.WithOsEnv, cli.WithWorkingDirectory(filepath.Dir(path)))
	if err == nil {
		var project interface{ ServiceNames() []string }
		p, loadErr := options.LoadProject(context.Background())
		if loadErr == nil {
			project = p
			fmt.Printf("valid: %d services %v\n", len(project.ServiceNames()), project.ServiceNames())
			return
		}
		err = loadErr
	}
	fmt.Fprintln(os.Stderr, "invalid compose file:", err)
	os.Exit(1)
}
