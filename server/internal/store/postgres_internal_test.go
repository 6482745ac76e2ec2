package store

import "testing"

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":                                  "SELECT 1",
		"SELECT * FROM t WHERE a = ? AND b = ?":     "SELECT * FROM t WHERE a = $1 AND b = $2",
		"SELECT '?', \"a?\" FROM t WHERE x = ?":     "SELECT '?', \"a?\" FROM t WHERE x = $1",
		"SELECT 'it''s ?' WHERE x = ? -- why?\n, ?": "SELECT 'it''s ?' WHERE x = $1 -- why?\n, $2",
		"INSERT INTO t VALUES (?, ?, ?)":            "INSERT INTO t VALUES ($1, $2, $3)",
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}
