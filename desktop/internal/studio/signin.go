package studio

import (
	"context"
	"errors"
	"fmt"

	"framecast.dev/shared/api"
)

// SignInCode is what the user sees during the device sign-in: the code to
// check in the browser and the page that approves it.
type SignInCode struct {
	UserCode string `json:"userCode"`
	URL      string `json:"url"`
}

// SignIn signs this device in with the server in Settings (RFC 8628 device
// flow): show receives the code and the page to open; SignIn returns once
// the user approved in the browser (the token is saved and uploading
// starts), denied, the code expired, or ctx ended. It returns the account's
// name or e-mail address.
func (s *Studio) SignIn(ctx context.Context, clientName string, show func(SignInCode)) (string, error) {
	base := s.serverURL()
	if base == "" {
		return "", errors.New("set the server address first, then sign in")
	}
	c := api.NewClient(base, "")
	auth, err := c.StartDeviceSignIn(ctx, clientName)
	if err != nil {
		return "", fmt.Errorf("could not start signing in at %s: %w", base, err)
	}
	url := auth.VerificationURIComplete
	if url == "" {
		url = auth.VerificationURI
	}
	show(SignInCode{UserCode: auth.UserCode, URL: url})
	tok, err := c.WaitForDeviceToken(ctx, auth)
	switch {
	case api.IsCode(err, api.CodeAccessDenied):
		return "", errors.New("the sign-in was denied in the browser")
	case api.IsCode(err, api.CodeExpiredToken):
		return "", errors.New("the sign-in code expired; sign in again")
	case errors.Is(err, context.Canceled):
		return "", errors.New("signing in was cancelled")
	case err != nil:
		return "", fmt.Errorf("signing in failed: %w", err)
	}
	if err := s.settings.SaveDeviceToken(tok.AccessToken); err != nil {
		return "", fmt.Errorf("signed in, but the token could not be saved: %w", err)
	}
	if err := s.Reconfigure(); err != nil {
		return "", fmt.Errorf("signed in, but uploading cannot start: %w", err)
	}
	who := tok.User.Name
	if who == "" {
		who = tok.User.Email
	}
	return who, nil
}
