// Package inventory reads the static agent inventory: a YAML file that lists the probing
// agents (name, PoP, address, API URL, secret reference, labels). It is strict on purpose:
// a typo in a key or a bad value is an error with the file and line, not an agent that
// silently probes the wrong thing.
//
//	agents:
//	  - name: scouter-sjc-0          # unique; becomes src_slug
//	    pop: sjc                     # PoP code, lower case
//	    address: 151.139.47.79       # what the other agents ping (IP or host name)
//	    url: http://151.139.47.79:8000   # optional, default http://ADDRESS:PORT
//	    secret_env: SJC_SECRET       # optional: this agent's secret from an env var
//	    secret_file: /etc/x/secret   # optional alternative: from a file
//	    labels: {region: na}         # optional string map
package inventory

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/meshtop/meshtop/internal/yamlx"
	"github.com/meshtop/meshtop/mesh"
)

// maxErrors bounds how many problems one Parse reports, so a wrong file (say, a
// Grafana dashboard) gives a readable answer rather than a screenful.
const maxErrors = 20

// Error is one problem in the inventory, located by file and line.
type Error struct {
	File  string
	Line  int    // 1-based; 0 when unknown
	Agent string // `agent "NAME"`, `agents[N]` or "" for file-level problems
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Agent != "" {
		b.WriteString(e.Agent + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads and validates the inventory at path. defaultPort completes the URL of
// agents that give none. A relative secret_file is taken relative to the inventory's
// directory, so an inventory and its secrets can move together.
func Load(path string, defaultPort int) ([]mesh.Agent, error) {
	data, err := yamlx.ReadFile(path, maxFileBytes, "an inventory")
	if err != nil {
		// *PathError says "open PATH: reason"; callers add no "read inventory" of their own.
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	return Parse(data, path, defaultPort)
}

// maxFileBytes bounds an inventory file: a thousand agents take about 150 KiB.
const maxFileBytes = 8 << 20

// Parse validates an inventory held in memory; filename is used in error messages and
// to resolve relative secret_file paths. All problems found (up to a bound) are
// returned together, joined by newlines, each as an *Error.
func Parse(data []byte, filename string, defaultPort int) ([]mesh.Agent, error) {
	return parse(data, filename, defaultPort, false)
}

// ParseRemote validates an inventory fetched from url. Such a list may not name
// secrets (secret_env, secret_file): whoever serves it would choose which of this
// machine's files or variables is sent to which agent URL. Agents fetched so use the
// collector's shared secret (SCOUTER_SECRET, --scouter-secret-file).
func ParseRemote(data []byte, url string, defaultPort int) ([]mesh.Agent, error) {
	return parse(data, url, defaultPort, true)
}

func parse(data []byte, filename string, defaultPort int, remote bool) ([]mesh.Agent, error) {
	if defaultPort < 1 || defaultPort > 65535 {
		return nil, &Error{File: filename, Msg: fmt.Sprintf("default agent port %d is out of range (1-65535)", defaultPort)}
	}
	root, err := decodeSingle(data, filename)
	if err != nil {
		return nil, err
	}
	p := &parser{file: filename, dir: filepath.Dir(filename), port: defaultPort, remote: remote}
	agents := p.document(root)
	if len(p.errs) > 0 {
		return nil, p.joined()
	}
	return agents, nil
}

// decodeSingle parses exactly one YAML document into a node tree.
func decodeSingle(data []byte, filename string) (*yaml.Node, error) {
	doc, err := yamlx.Parse(data)
	var se *yamlx.SyntaxError
	var p yamlx.Problem
	switch {
	case errors.As(err, &se):
		return nil, &Error{File: filename, Line: se.Line, Msg: "invalid YAML: " + se.Msg}
	case errors.As(err, &p):
		return nil, &Error{File: filename, Line: p.Line, Msg: p.Msg + "; put every agent in one \"agents:\" list"}
	case err != nil:
		return nil, &Error{File: filename, Msg: err.Error()}
	case doc == nil:
		return nil, &Error{File: filename, Msg: "the file is empty; want a top-level \"agents:\" list"}
	}
	return doc, nil
}
