package tui

import "fmt"

// plural counts a noun: "1 sample", "3 samples".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
