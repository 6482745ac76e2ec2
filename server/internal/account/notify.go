package account

import "framecast.dev/server/internal/mail"

// Notify mails m in the background through the account mail sender, for
// other parts of the server (the first-view mail of viewer analytics).
func (s *Service) Notify(m mail.Message) { s.send(m) }
