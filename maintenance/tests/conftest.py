"""The loopback Twilio and Slack stand-ins (testsupport.notifications) for this app's tests."""

from testsupport.notifications import (  # noqa: F401
    fast_retries,
    slack_server,
    slack_settings,
    twilio_server,
    twilio_settings,
)
