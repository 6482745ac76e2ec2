package api

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// StartDeviceSignIn begins a desktop sign-in (no token needed): show
// UserCode and open VerificationURIComplete in the browser, then call
// WaitForDeviceToken.
func (c *Client) StartDeviceSignIn(ctx context.Context, clientName string) (DeviceAuthorization, error) {
	var out DeviceAuthorization
	err := c.postAnonymous(ctx, RouteDeviceCode, DeviceCodeRequest{ClientName: clientName}, &out)
	return out, err
}

// PollDeviceToken polls once. Until the user decides it returns an *Error
// with code CodeAuthorizationPending (or CodeSlowDown when polled too
// fast); then the token, or CodeAccessDenied / CodeExpiredToken.
func (c *Client) PollDeviceToken(ctx context.Context, deviceCode string) (DeviceToken, error) {
	var out DeviceToken
	err := c.postAnonymous(ctx, RouteDeviceToken, DeviceTokenRequest{DeviceCode: deviceCode}, &out)
	return out, err
}

// WaitForDeviceToken polls at the interval the server asked for (growing
// it by 5 s on slow_down) until the user approves or denies, the codes
// expire, ctx ends, or a request fails. On success set c.Token to
// AccessToken (and keep it in the OS keychain).
func (c *Client) WaitForDeviceToken(ctx context.Context, a DeviceAuthorization) (DeviceToken, error) {
	interval := time.Duration(max(a.Interval, 1)) * time.Second
	for {
		select {
		case <-ctx.Done():
			return DeviceToken{}, ctx.Err()
		case <-time.After(interval):
		}
		tok, err := c.PollDeviceToken(ctx, a.DeviceCode)
		switch {
		case err == nil:
			return tok, nil
		case IsCode(err, CodeAuthorizationPending):
		case IsCode(err, CodeSlowDown):
			interval += 5 * time.Second
		default:
			return DeviceToken{}, err
		}
	}
}

// Me returns the user and device of the client's token.
func (c *Client) Me(ctx context.Context) (Me, error) {
	if c.Token == "" {
		return Me{}, ErrNoToken
	}
	req, err := c.newRequest(ctx, http.MethodGet, RouteMe, nil)
	if err != nil {
		return Me{}, err
	}
	var out Me
	_, err = c.do(req, &out)
	return out, err
}

// SignOutDevice revokes the client's own token; afterwards every call
// with it answers 401.
func (c *Client) SignOutDevice(ctx context.Context) error {
	if c.Token == "" {
		return ErrNoToken
	}
	req, err := c.newRequest(ctx, http.MethodDelete, RouteDevice, nil)
	if err != nil {
		return err
	}
	_, err = c.do(req, nil)
	return err
}

// postAnonymous posts JSON without the device token.
func (c *Client) postAnonymous(ctx context.Context, path string, in, out any) error {
	body, err := jsonBody(in)
	if err != nil {
		return err
	}
	req, err := c.newRequest(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	req.Header.Del("Authorization")
	req.Header.Set("Content-Type", "application/json")
	_, err = c.do(req, out)
	return err
}

// ErrNoToken is returned by calls that need a device token when the
// Client has none.
var ErrNoToken = errors.New("api: no device token: sign in first")
