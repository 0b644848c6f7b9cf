package main

import "github.com/spf13/cobra"

// cobra generates `help` and `completion` (bash, zsh, fish, powershell); the scripts call
// back into `meshtop __complete`, so completions follow every command and flag without
// upkeep. This file only gives those commands meshtop's help conventions (examples, 80
// columns: cobra's own zsh text has a 84-column line) and keeps them working when the
// config file is broken.
var completionHelp = map[string]struct{ long, example string }{
	"bash": {
		long: `Print the bash completion script. It needs the bash-completion package
(apt install bash-completion; brew install bash-completion@2).`,
		example: `  # This shell only
  source <(meshtop completion bash)
  # Every new shell (Linux)
  meshtop completion bash | sudo tee /etc/bash_completion.d/meshtop >/dev/null
  # Every new shell (macOS, Homebrew)
  meshtop completion bash > $(brew --prefix)/etc/bash_completion.d/meshtop`,
	},
	"zsh": {
		long: `Print the zsh completion script. Completion must be enabled once with
"autoload -U compinit; compinit" in ~/.zshrc.`,
		example: `  # This shell only
  source <(meshtop completion zsh)
  # Every new shell (Linux)
  meshtop completion zsh > "${fpath[1]}/_meshtop"
  # Every new shell (macOS, Homebrew)
  meshtop completion zsh > $(brew --prefix)/share/zsh/site-functions/_meshtop`,
	},
	"fish": {
		long: `Print the fish completion script.`,
		example: `  # This shell only
  meshtop completion fish | source
  # Every new shell
  meshtop completion fish > ~/.config/fish/completions/meshtop.fish`,
	},
	"powershell": {
		long: `Print the PowerShell completion script.`,
		example: `  # This session only
  meshtop completion powershell | Out-String | Invoke-Expression`,
	},
}

// polishBuiltinCmds adds examples and the no-config annotation to cobra's built-in
// commands. Called by newRootCmd after InitDefaultHelpCmd and InitDefaultCompletionCmd.
func polishBuiltinCmds(root *cobra.Command) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  meshtop help snapshot\n  meshtop snapshot --help"
			noConfig(c)
		case "completion":
			c.Long = `Print a shell completion script for meshtop. It completes commands,
flags and flag values; see the help of each shell's subcommand for how to
install it.`
			c.Example = `  source <(meshtop completion bash)
  meshtop completion zsh > "${fpath[1]}/_meshtop"
  meshtop completion fish > ~/.config/fish/completions/meshtop.fish`
			noConfig(c)
			for _, sh := range c.Commands() {
				if h, ok := completionHelp[sh.Name()]; ok {
					sh.Long, sh.Example = h.long, h.example
				}
			}
		}
	}
}

func noConfig(c *cobra.Command) {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[noConfigAnnotation] = "true"
}
