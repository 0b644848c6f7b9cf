package scoutertest

import "encoding/json"

// RawResults answers the result object of every test of type typ with the JSON text
// body, byte for byte, and leaves other types to the server's normal answers. It is for
// tests of what meshtop does with values no real agent should send ("sent": 1e15,
// "loss": 1e9, RTTs of 1e307, strings where numbers belong):
//
//	scoutertest.New(scoutertest.Config{Result: scoutertest.RawResults("ping", `{"sent": 1e15}`)})
func RawResults(typ, body string) func(typ, dst string) any {
	raw := json.RawMessage(body)
	return func(t, _ string) any {
		if t != typ {
			return nil
		}
		return raw
	}
}
