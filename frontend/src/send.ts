import type { Recording } from "./backend";

// Sending a recording by e-mail from the library. The server checks the
// addresses again and decides, from the video's tracking level, whether
// each recipient gets a personal link; this side only catches typing
// mistakes early, the same way the server would.

// MAX_RECIPIENTS matches the server's limit for one send (track.MaxRecipients).
export const MAX_RECIPIENTS = 50;

// CONSENT_REMINDER is the dashboard's reminder on its send form
// (server/web/templates/video.html), word for word.
export const CONSENT_REMINDER =
  "Ask first: at the Full tracking level each recipient gets a personal link, and you will see whether they watched, how far and what they clicked. Tracking people needs their consent; send only to people who agreed, or lower this video's tracking level first.";

// One address, as net/mail accepts a bare one: local@domain with no
// spaces, brackets or display name.
const ADDRESS = /^[^\s@<>(),;:"\[\]\\]+@[^\s@<>(),;:"\[\]\\]+\.[^\s@<>(),;:"\[\]\\]+$/;

export interface ParsedRecipients {
  addresses: string[]; // lower-cased, each once
  error: string; // "" when the list can be sent
}

// parseRecipients splits what the owner typed (commas, semicolons, spaces
// or lines) and checks every address.
export function parseRecipients(raw: string): ParsedRecipients {
  const addresses: string[] = [];
  for (const part of raw.split(/[,;\s]+/)) {
    if (!part) continue;
    if (part.length > 254 || !ADDRESS.test(part)) {
      const shown = part.length > 80 ? `${part.slice(0, 80)}…` : part;
      return { addresses: [], error: `“${shown}” is not an e-mail address.` };
    }
    const a = part.toLowerCase();
    if (!addresses.includes(a)) addresses.push(a);
  }
  if (addresses.length === 0) return { addresses, error: "Give at least one e-mail address." };
  if (addresses.length > MAX_RECIPIENTS) return { addresses: [], error: `At most ${MAX_RECIPIENTS} recipients at once.` };
  return { addresses, error: "" };
}

// sendDisabledReason says why a recording cannot be sent now, or "" when
// it can.
export function sendDisabledReason(r: Recording, signedIn: boolean): string {
  if (!signedIn) return "Sign in first to send videos by e-mail.";
  if (!r.onServer) return "Not on the server yet: it can be sent once it has uploaded.";
  return "";
}

// Sent mirrors studio.Sent: what the server did.
export interface Sent {
  recording: string;
  sent: number;
  unsubscribed?: string[] | null;
  personal: boolean;
}

// sentLabel is the sentence shown after a send.
export function sentLabel(s: Sent): string {
  let msg = s.sent === 1 ? "Sent to 1 recipient" : `Sent to ${s.sent} recipients`;
  msg += s.personal ? ", each with a personal link." : ".";
  const skipped = s.unsubscribed ?? [];
  if (skipped.length) msg += ` Not sent to ${skipped.join(", ")}: they unsubscribed.`;
  return msg;
}
