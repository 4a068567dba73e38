"""``manage.py seed_demo``: build the deterministic demo club (see docs/demo-club.md)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from demo.club import MAX_SCALE, build_demo_club
from demo.history import MAX_DAYS, build_history, history_end, history_lines
from demo.login import ensure_demo_login
from demo.reset import ClubNotEmpty
from demo.summary import summary_lines
from utils.cli import OneLineErrorsCommand, iso_date, positive_int
from utils.clubtime import club_today
from utils.exitcodes import ExitCode


class Command(OneLineErrorsCommand):
    help = (
        "Build a deterministic demo club: members, a year of flying, the duty roster and maintenance, "
        "with known findings for every scheduled job; with --history, a month of the jobs' runs. "
        "Same --seed, --scale and --today: same data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--scale",
            type=positive_int,
            default=1,
            help=f"Copies of the 75-member club to build (1-{MAX_SCALE}); findings multiply. Default 1.",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed. Default 1.")
        parser.add_argument(
            "--today",
            type=iso_date,
            help="The day the data is built around (YYYY-MM-DD). Default: the club's today.",
        )
        parser.add_argument(
            "--history",
            type=positive_int,
            metavar="DAYS",
            help=f"Also the scheduled jobs' runs of the last DAYS days and today so far (1-{MAX_DAYS}), "
            "rolled up, with a few failures, a slow run, skips and a live run. Default: none.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete all club data first (members except superusers), in the same transaction. "
            "With DEBUG off it also needs --confirm-reset.",
        )
        parser.add_argument(
            "--confirm-reset",
            action="store_true",
            help="Confirm --reset where DEBUG is off (a production-like database).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scale = options["scale"]
        if scale > MAX_SCALE:
            raise CommandError(f"--scale {scale} is more than {MAX_SCALE}", returncode=ExitCode.USAGE)
        if (options["history"] or 0) > MAX_DAYS:
            raise CommandError(
                f"--history {options['history']} is more than {MAX_DAYS} days", returncode=ExitCode.USAGE
            )
        if options["reset"] and not settings.DEBUG and not options["confirm_reset"]:
            # A real club's database runs with DEBUG off: --reset there wipes the club.
            raise CommandError(
                "--reset deletes every member (but superusers), flight, logsheet and report, and DEBUG "
                "is off: add --confirm-reset if this database really is a demo; nothing changed",
                returncode=ExitCode.USAGE,
            )

        def progress(done: int, total: int) -> None:
            if options["verbosity"] >= 2 and (done % 10 == 0 or done == total):
                self.stdout.write(f"  {done}/{total} sections built")

        today = options["today"] or club_today()
        lines: list[str] = []
        try:
            with transaction.atomic():  # the club, its history and the login: all or nothing
                club = build_demo_club(
                    scale=scale, seed=options["seed"], today=today, reset=options["reset"], progress=progress
                )
                lines = summary_lines(club)
                if options["history"]:
                    history = build_history(options["history"], history_end(today), options["seed"])
                    lines += history_lines(history)
                if settings.DEBUG:
                    username, password = ensure_demo_login()
                    lines.append(f"Staff login (demo only, DEBUG): {username} / {password}")
        except ClubNotEmpty as exc:
            raise CommandError(
                f"the database already holds club data ({exc}); nothing changed. Use --reset to replace it.",
                returncode=ExitCode.USAGE,
            ) from None
        self.stdout.write("\n".join(lines))
