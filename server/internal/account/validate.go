package account

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on what users type.
const (
	MaxEmailLen    = 254 // bytes (RFC 5321)
	MaxNameLen     = 100 // characters
	MaxCompanyLen  = 100 // characters
	MaxPhoneLen    = 32  // characters
	MinPasswordLen = 10  // characters
	MaxPasswordLen = 256 // bytes; argon2id takes any length, but bodies stay small
)

// normalizeEmail returns the address in the form accounts are keyed by:
// trimmed, NFC, lower case. It accepts a bare address only.
func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("email", "Enter your e-mail address.")
	}
	if len(s) > MaxEmailLen || !utf8.ValidString(s) {
		return "", invalid("email", "That e-mail address is too long.")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(a.Address[strings.LastIndexByte(a.Address, '@')+1:], ".") && !strings.HasSuffix(a.Address, "@localhost") {
		return "", invalid("email", "That does not look like an e-mail address (name@example.com).")
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "", invalid("email", "An e-mail address cannot contain spaces or control characters.")
		}
	}
	return strings.ToLower(norm.NFC.String(s)), nil
}

// cleanText trims s, checks it is valid UTF-8 without control characters
// and at most max characters, and returns it in NFC.
func cleanText(field, label, s string, max int, required bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", invalid(field, "The %s is not valid text.", label)
	}
	s = norm.NFC.String(strings.TrimSpace(s))
	if s == "" && required {
		return "", invalid(field, "Enter your %s.", label)
	}
	if utf8.RuneCountInString(s) > max {
		return "", invalid(field, "The %s is longer than %d characters.", label, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r) {
			return "", invalid(field, "The %s contains characters that cannot be shown (control characters).", label)
		}
	}
	return s, nil
}

func cleanName(s string) (string, error) { return cleanText("name", "name", s, MaxNameLen, true) }

func cleanCompany(s string) (string, error) {
	return cleanText("company", "company", s, MaxCompanyLen, false)
}

func cleanPhone(s string) (string, error) {
	s, err := cleanText("phone", "phone number", s, MaxPhoneLen, false)
	if err != nil {
		return "", err
	}
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-() ./", r):
		default:
			return "", invalid("phone", "A phone number holds digits, spaces and + - ( ) . / only.")
		}
	}
	if s != "" && digits < 3 {
		return "", invalid("phone", "That phone number is too short.")
	}
	return s, nil
}

func checkPassword(field, pw string) error {
	if len(pw) > MaxPasswordLen {
		return invalid(field, "The password is longer than %d bytes.", MaxPasswordLen)
	}
	if !utf8.ValidString(pw) {
		return invalid(field, "The password is not valid text.")
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return invalid(field, "Choose a password of at least %d characters.", MinPasswordLen)
	}
	return nil
}
