package download

import (
	"context"
	"os"
	"testing"
	"time"
)

// contextWithCancelAfterFirstWrite cancels once the file at path holds data.
func contextWithCancelAfterFirstWrite(t *testing.T, path string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for ctx.Err() == nil {
			if info, err := os.Stat(path); err == nil && info.Size() > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return ctx, cancel
}
