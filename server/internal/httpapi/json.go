package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// decodeJSON decodes exactly one JSON value. Unknown fields are ignored on
// purpose: a desktop app newer than a self-hosted server may send more.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}
