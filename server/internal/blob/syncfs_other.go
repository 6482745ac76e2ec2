//go:build !linux

package blob

// canSyncFS: elsewhere there is no syncfs; PutFileUnsynced syncs each
// file instead.
const canSyncFS = false

func syncFS(string) error { return nil }
