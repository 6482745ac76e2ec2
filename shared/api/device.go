package api

import "time"

// DeviceCodeRequest is the body of POST RouteDeviceCode.
type DeviceCodeRequest struct {
	// ClientName is shown to the user when approving and on the devices
	// page, e.g. "Framecast on ada-laptop". At most 100 characters.
	ClientName string `json:"client_name"`
}

// DeviceAuthorization is the answer of POST RouteDeviceCode.
type DeviceAuthorization struct {
	// DeviceCode is the secret the app polls with. Never show or log it.
	DeviceCode string `json:"device_code"`
	// UserCode is what the user checks (or types) in the browser.
	UserCode string `json:"user_code"`
	// VerificationURI is the page where the user enters the code;
	// VerificationURIComplete has the code in it already (open this one).
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"` // seconds until the codes expire
	Interval                int    `json:"interval"`   // seconds to wait between polls
}

// DeviceTokenRequest is the body of POST RouteDeviceToken.
type DeviceTokenRequest struct {
	DeviceCode string `json:"device_code"`
}

// DeviceToken is the answer of a successful POST RouteDeviceToken.
type DeviceToken struct {
	// AccessToken is the device token for "Authorization: Bearer". It is
	// handed out once; the server keeps only its hash.
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"` // "Bearer"
	Device      Device `json:"device"`
	User        User   `json:"user"`
}

// User is the account a device token acts for.
type User struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Device is a signed-in desktop app.
type Device struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// Me is the answer of GET RouteMe.
type Me struct {
	User   User   `json:"user"`
	Device Device `json:"device"`
}
