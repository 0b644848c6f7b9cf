package serve

import (
	"charm.land/ssh"

	"github.com/meshtop/meshtop/internal/textsafe"
)

// clampPty gives the session's UI a terminal of at most MaxPtyWidth x MaxPtyHeight: a
// client may claim any size, and every frame is rendered (and kept) for that size. The
// frame then fills the top left of a larger terminal. Resizes are clamped alike, and
// the TERM name from the client is bounded.
func clampPty(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		pty, winch, ok := sess.Pty()
		if !ok {
			next(sess)
			return
		}
		pty.Window = clampWindow(pty.Window)
		pty.Term = textsafe.String(pty.Term, 64)
		clamped := make(chan ssh.Window, 1)
		go func() {
			defer close(clamped)
			// Latest size wins, and a send never blocks: once the UI has ended nobody
			// reads, and this must still see winch close.
			for w := range winch {
				w = clampWindow(w)
				select {
				case clamped <- w:
				default:
					select {
					case <-clamped:
					default:
					}
					clamped <- w
				}
			}
		}()
		next(clampedSession{Session: sess, pty: pty, winch: clamped})
	}
}

func clampWindow(w ssh.Window) ssh.Window {
	w.Width = min(max(w.Width, 0), MaxPtyWidth)
	w.Height = min(max(w.Height, 0), MaxPtyHeight)
	w.WidthPixels, w.HeightPixels = 0, 0
	return w
}

// clampedSession is a session whose terminal is clamped.
type clampedSession struct {
	ssh.Session
	pty   ssh.Pty
	winch <-chan ssh.Window
}

// Pty implements ssh.Session.
func (s clampedSession) Pty() (ssh.Pty, <-chan ssh.Window, bool) { return s.pty, s.winch, true }
