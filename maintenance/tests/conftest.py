"""The loopback Twilio and Slack stand-ins (notifications.testing) for this app's tests."""

from notifications.testing import (  # noqa: F401
    fast_retries,
    slack_server,
    slack_settings,
    twilio_server,
    twilio_settings,
)
