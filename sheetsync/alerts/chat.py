"""Alert posts to chat: Slack, Microsoft Teams, Discord, Mattermost, generic webhooks.

Channels are named in the config (`[alerts.channels] sales = "slack://..."`) and posted to
through Apprise, which speaks every one of those by URL. The URL is the secret (a webhook
token): it is registered with the log redaction before anything is posted, Apprise's own
debug lines (which print it) are kept below WARNING, and only the channel's *name* ever
reaches the Alerts tab, a message or an exception (`chat:sales`).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

from sheetsync.alerts.recipients import CHAT_PREFIX
from sheetsync.core.errors import ConfigError, DeliveryError
from sheetsync.ops.logsetup import redact, register_secret

log = logging.getLogger("sheetsync.alerts")


class ChatDeliveryError(DeliveryError):
    """A chat post was not accepted; the alert stays pending for that channel."""


def channel_url(name: str, value: str, environ: Mapping[str, str] | None = None) -> str:
    """The Apprise URL of a channel: the value itself, or `env:VAR` read from the environment."""
    if value.startswith("env:"):
        variable = value[4:].strip()
        url = (os.environ if environ is None else environ).get(variable, "").strip()
        if not url:
            raise ConfigError(
                f"the environment variable {variable} (the URL of chat channel {name!r}) is "
                "not set",
                key=f"alerts.channels.{name}",
            )
        return url
    return value


def _secret_parts(url: str) -> list[str]:
    """The URL and every longer piece of it (tokens, passwords), for the log redaction."""
    rest = url.split("://", 1)[-1]
    return [url, rest, *(p for p in re.split(r"[/@:?&=#]", rest) if len(p) >= 8)]


class ChatPoster:
    """Posts one message to a named channel with Apprise; raises ChatDeliveryError."""

    def __init__(self, channels: Mapping[str, str]) -> None:
        import apprise

        logging.getLogger("apprise").setLevel(logging.WARNING)  # its debug lines show URLs
        self._channels: dict[str, apprise.Apprise] = {}
        for name, url in channels.items():
            for part in _secret_parts(url):
                register_secret(part)
            client = apprise.Apprise()
            if not client.add(url):
                raise ConfigError(
                    f"chat channel {name!r}: Apprise does not understand this URL (see "
                    "https://github.com/caronc/apprise/wiki for the form of each service)",
                    key=f"alerts.channels.{name}",
                )
            self._channels[name] = client

    def __repr__(self) -> str:
        return f"ChatPoster({sorted(self._channels)})"

    def post(self, name: str, title: str, body: str) -> None:
        import apprise

        client = self._channels.get(name)
        if client is None:
            raise ChatDeliveryError(f"no chat channel {name!r} in [alerts.channels]")
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = client.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            said = " ".join(redact(captured.getvalue()).split())
            said = re.sub(r"\S+ \S+ - WARNING - ", "", said)
            raise ChatDeliveryError(
                f"the post to {CHAT_PREFIX}{name} failed: {said or 'no reason'}"
            )
        log.info("posted to %s%s", CHAT_PREFIX, name)
