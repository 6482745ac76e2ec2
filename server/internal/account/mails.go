package account

import (
	"fmt"

	"framecast.dev/server/internal/mail"
)

// The texts of the mails the account side sends. Each carries at most one
// secret link; Kind keeps the logs readable without the body.

func verifyMail(to, name, link string) mail.Message {
	return mail.Message{To: to, Kind: "verify", Subject: "Confirm your e-mail address for Framecast", Text: fmt.Sprintf(
		`Hello %s,

please confirm that this is your e-mail address by opening this link:

%s

The link works for 24 hours. If you did not sign up for Framecast, ignore
this mail: an account that is never confirmed is removed.
`, name, link)}
}

func existingAccountMail(to, name, signIn, reset string) mail.Message {
	return mail.Message{To: to, Kind: "signup-existing", Subject: "You already have a Framecast account", Text: fmt.Sprintf(
		`Hello %s,

someone (probably you) tried to sign up for Framecast with this e-mail
address, but it already has an account. Sign in here:

%s

Forgot your password? Choose a new one here:

%s

If it was not you, you can ignore this mail; nothing was changed.
`, name, signIn, reset)}
}

func resetMail(to, name, link string) mail.Message {
	return mail.Message{To: to, Kind: "reset", Subject: "Reset your Framecast password", Text: fmt.Sprintf(
		`Hello %s,

open this link to choose a new password for your Framecast account:

%s

The link works for one hour and only once. If you did not ask for it,
ignore this mail: your password stays as it is.
`, name, link)}
}

func passwordChangedMail(to, name, reset string) mail.Message {
	return mail.Message{To: to, Kind: "password-changed", Subject: "Your Framecast password was changed", Text: fmt.Sprintf(
		`Hello %s,

the password of your Framecast account was just changed, and every other
browser was signed out. If that was not you, choose a new password at once:

%s
`, name, reset)}
}

func emailChangeMail(to, name, link string) mail.Message {
	return mail.Message{To: to, Kind: "email-change", Subject: "Confirm your new e-mail address for Framecast", Text: fmt.Sprintf(
		`Hello %s,

please confirm that your Framecast account should use this e-mail address
from now on by opening this link:

%s

The link works for 24 hours. Until then your old address stays in use.
`, name, link)}
}

func emailChangeNoticeMail(to, name string) mail.Message {
	return mail.Message{To: to, Kind: "email-change-notice", Subject: "Your Framecast e-mail address is being changed", Text: fmt.Sprintf(
		`Hello %s,

someone signed in to your Framecast account asked to use another e-mail
address for it. It changes only once the new address is confirmed. If that
was not you, change your password now.
`, name)}
}

func invitationMail(to, inviter, workspace, link string) mail.Message {
	return mail.Message{To: to, Kind: "invitation", Subject: fmt.Sprintf("%s invited you to %s on Framecast", inviter, workspace), Text: fmt.Sprintf(
		`Hello,

%s invited you to the workspace %q on Framecast, to share screen
recordings with its members. Accept the invitation here:

%s

The link works for 7 days. If you do not have an account yet, sign up
with this e-mail address first.
`, inviter, workspace, link)}
}

// forUser makes m a mail of the account userID: deleting the account
// deletes it from the queue, unsent.
func forUser(m mail.Message, userID string) mail.Message {
	m.UserID = userID
	return m
}
