package httpapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"framecast.dev/server/internal/account"
	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
)

// The desktop sign-in part of the API (see framecast.dev/shared/api).

func (s *Server) deviceAPIRoutes(v1 fiber.Router) {
	v1.Post("/device/code", s.deviceCode)
	v1.Post("/device/token", s.deviceToken)
	v1.Get("/me", s.authenticate, s.me)
	v1.Delete("/device", s.authenticate, s.signOutDevice)
}

func (s *Server) deviceCode(c *fiber.Ctx) error {
	var in api.DeviceCodeRequest
	if err := s.readJSON(c, &in); err != nil {
		return err
	}
	a, err := s.accounts.StartDeviceAuthorization(c.UserContext(), in.ClientName, s.client(c))
	if err != nil {
		return accountError(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(api.DeviceAuthorization{
		DeviceCode:              a.DeviceCode,
		UserCode:                a.UserCode,
		VerificationURI:         s.baseURL + "/device",
		VerificationURIComplete: s.baseURL + "/device?code=" + a.UserCode,
		ExpiresIn:               int(a.ExpiresIn / time.Second),
		Interval:                int(a.Interval / time.Second),
	})
}

func (s *Server) deviceToken(c *fiber.Ctx) error {
	var in api.DeviceTokenRequest
	if err := s.readJSON(c, &in); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	got, err := s.accounts.PollDevice(c.UserContext(), in.DeviceCode, s.client(c))
	if err != nil {
		return accountError(err)
	}
	return c.JSON(api.DeviceToken{AccessToken: got.Token, TokenType: "Bearer", Device: apiDevice(got.Device), User: apiUser(got.User)})
}

func apiUser(u store.User) api.User { return api.User{ID: u.ID, Name: u.Name, Email: u.Email} }

func apiDevice(d store.Device) api.Device {
	out := api.Device{ID: d.ID, Name: d.Name, CreatedAt: d.CreatedAt}
	if !d.LastUsedAt.IsZero() {
		t := d.LastUsedAt
		out.LastUsedAt = &t
	}
	return out
}

func (s *Server) me(c *fiber.Ctx) error {
	dev, _ := c.Locals(localDevice).(*store.Device)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(api.Me{User: apiUser(*userOf(c)), Device: apiDevice(*dev)})
}

func (s *Server) signOutDevice(c *fiber.Ctx) error {
	dev, _ := c.Locals(localDevice).(*store.Device)
	if dev.ID == account.PlaceholderDeviceID {
		return newError(fiber.StatusConflict, api.CodeConflict,
			"The placeholder token is configured on the server (FRAMECAST_DEVICE_TOKEN) and cannot be revoked here.")
	}
	if err := s.accounts.RevokeDevice(c.UserContext(), *userOf(c), dev.ID); err != nil {
		return accountError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
