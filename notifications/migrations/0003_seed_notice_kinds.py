"""The kinds of notice the scheduled jobs send, with the channels each uses (editable in the admin)."""

from django.db import migrations

# key, description, email, sms, slack, SMS in quiet hours
KINDS = [
    ("duty_preop", "Briefing of the crew before an operations day", True, True, False, "defer"),
    ("ad_hoc_expired", "An unconfirmed ad-hoc operations day was called off", True, False, False, "drop"),
    ("aging_logsheets", "Logsheets left unfinalized", True, False, False, "drop"),
    ("late_sprs", "Overdue student progress reports (below FINAL level)", True, False, False, "drop"),
    ("late_sprs_final", "Overdue student progress reports at FINAL level", True, True, False, "defer"),
    ("pilot_currency", "A pilot's recency is lapsing or has lapsed", True, True, False, "defer"),
    ("duty_delinquents", "Monthly report of members who fly without duty", True, False, True, "drop"),
    ("maintenance_digest", "Weekly digest of open maintenance issues and deadlines", True, False, True, "drop"),
    ("job_failure", "A scheduled job failed, is overdue or slow (to the site admins)", True, False, True, "drop"),
]


def seed(apps, schema_editor):
    NoticeKind = apps.get_model("notifications", "NoticeKind")
    for key, description, email, sms, slack, quiet in KINDS:
        NoticeKind.objects.get_or_create(
            key=key,
            defaults={
                "description": description,
                "email": email,
                "sms": sms,
                "slack": slack,
                "sms_quiet_hours": quiet,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("notifications", "NoticeKind").objects.filter(key__in=[k[0] for k in KINDS]).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_channels_and_preferences")]

    operations = [migrations.RunPython(seed, unseed)]
