package announce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/coder/websocket"

	"satchel.dev/shared/nostr"
)

// maxRelayMessage bounds one message read from a relay.
const maxRelayMessage = 1 << 20

// Publish sends events to the relay at relayURL (ws:// or wss://) over one WebSocket
// connection, one after the other, waiting for the relay's OK for each (NIP-01). It returns the
// relay's last answer once the relay accepted every event (one it already has, "duplicate:",
// counts as accepted), or an error that says which event failed and what the relay answered:
// unreachable, refused (OK false), or no answer before ctx ended.
func Publish(ctx context.Context, relayURL string, events []nostr.Event) (string, error) {
	c, _, err := websocket.Dial(ctx, relayURL, nil)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("connecting: no answer in time (%w)", context.Cause(ctx))
		}
		return "", fmt.Errorf("connecting: %w", err)
	}
	defer c.CloseNow()
	c.SetReadLimit(maxRelayMessage)
	var answers []string
	for _, ev := range events {
		answer, err := publishOne(ctx, c, ev)
		if err != nil {
			return "", fmt.Errorf("event %s (kind %d): %w", ev.ID, ev.Kind, err)
		}
		answers = append(answers, fmt.Sprintf("kind %d accepted%s", ev.Kind, answer))
	}
	_ = c.Close(websocket.StatusNormalClosure, "")
	return strings.Join(answers, "; "), nil
}

// publishOne sends one event and reads until the relay's OK for it.
func publishOne(ctx context.Context, c *websocket.Conn, ev nostr.Event) (string, error) {
	msg, err := json.Marshal([]any{"EVENT", ev})
	if err != nil {
		return "", err
	}
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		return "", fmt.Errorf("sending: %w", readErr(ctx, err))
	}
	notice := ""
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			if notice != "" {
				return "", fmt.Errorf("waiting for the relay's OK: %w (its last notice: %q)", readErr(ctx, err), notice)
			}
			return "", fmt.Errorf("waiting for the relay's OK: %w", readErr(ctx, err))
		}
		var frame []json.RawMessage
		if json.Unmarshal(data, &frame) != nil || len(frame) == 0 {
			continue
		}
		var label string
		_ = json.Unmarshal(frame[0], &label)
		switch label {
		case "NOTICE":
			if len(frame) > 1 {
				_ = json.Unmarshal(frame[1], &notice)
			}
		case "OK":
			var id, message string
			var ok bool
			if len(frame) < 3 || json.Unmarshal(frame[1], &id) != nil || json.Unmarshal(frame[2], &ok) != nil {
				continue
			}
			if id != ev.ID {
				continue
			}
			if len(frame) > 3 {
				_ = json.Unmarshal(frame[3], &message)
			}
			switch {
			case ok && message != "":
				return " (" + message + ")", nil
			case ok:
				return "", nil
			case strings.HasPrefix(message, "duplicate:"):
				return " (" + message + ")", nil
			}
			return "", fmt.Errorf("the relay refused it (OK false): %q", message)
		}
	}
}

// readErr says a timeout in words; other errors pass.
func readErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer in time (%w)", context.Cause(ctx))
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return fmt.Errorf("the relay closed the connection (%d %s)", ce.Code, ce.Reason)
	}
	return err
}

// ValidateRelayURL checks a relay address: ws:// or wss:// with a host.
func ValidateRelayURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("relay %q: use a ws:// or wss:// URL, as in wss://relay.example.com", s)
	}
	return nil
}
