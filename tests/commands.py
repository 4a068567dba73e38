"""The project's management commands and their options, as their own parsers declare them."""

from __future__ import annotations

import argparse
import re
import shlex
from functools import cache
from importlib import import_module

from django.core.management import BaseCommand, CommandError, get_commands, load_command_class

from tests.markdown import ROOT

# Tokens of a documented command line that stand for "any scheduled job".
JOB_PLACEHOLDERS = {"JOB", "<job>", "JOB_NAME"}


def _is_ours(app: str) -> bool:
    return (ROOT / app.replace(".", "/")).is_dir()


@cache
def project_commands() -> dict[str, str]:
    """Command name -> app, for the commands of this project's apps (not Django's, not libraries')."""
    return {name: app for name, app in sorted(get_commands().items()) if _is_ours(app)}


@cache
def command(name: str) -> BaseCommand:
    return load_command_class(get_commands()[name], name)


@cache
def parser(name: str) -> argparse.ArgumentParser:
    try:
        return command(name).create_parser("manage.py", name)
    except (CommandError, SystemExit):
        # A command that deliberately refuses to load (an old import path kept only to say
        # so in one line) has no options of its own.
        return BaseCommand().create_parser("manage.py", name)
    except Exception as exc:  # anything else is a fault of the command: say which
        raise AssertionError(f"manage.py {name}: its parser can't be built ({exc!r})") from exc


@cache
def django_options() -> frozenset[str]:
    """The options Django gives every command (--verbosity, --settings, …): Django documents them."""
    return frozenset(BaseCommand().create_parser("manage.py", "x")._option_string_actions)


def actions(name: str) -> dict[str, argparse.Action]:
    """The long option -> action of ``name``'s own options (no hidden ones, no Django's)."""
    found = {}
    for action in parser(name)._actions:
        if action.help == argparse.SUPPRESS or not action.option_strings:
            continue
        long = max(action.option_strings, key=len)
        if long not in django_options():
            found[long] = action
    return found


def known_option(name: str, option: str) -> bool:
    """Whether ``option`` (a full name, no abbreviation) is an option of ``name``, Django's included."""
    return option in parser(name)._option_string_actions


def scheduled_jobs() -> list[str]:
    from utils.registry import scheduled_jobs as registry_jobs

    return list(registry_jobs())


def cron_commands() -> list[str]:
    from utils.registry import cron_commands as registry_cron_commands

    return list(registry_cron_commands())


def command_module_path(name: str) -> str:
    module = import_module(f"{get_commands()[name]}.management.commands.{name}")
    return str(module.__file__)


_OPTION = re.compile(r"^(--[A-Za-z][\w-]*|-[A-Za-z])")


def command_lines(text: str) -> list[str]:
    """Every ``manage.py …`` command line of a text: in code spans and in fenced code blocks."""
    found = []
    in_fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            if "manage.py " in line and not line.lstrip().startswith("#"):
                found.append(line.split(" # ")[0].split("  #")[0].strip())
            continue
        found += [span for span in re.findall(r"`([^`]+)`", line) if "manage.py " in span]
    return found


def invocations(line: str) -> list[tuple[str, list[str]]]:
    """(command, its options) of each ``manage.py`` command in a line (``a then b``, ``a && b``).

    Placeholders stay as they are; ``JOB`` stands for every scheduled job. After ``--``,
    ``run_scheduler --once JOB -- …`` passes the options on to the job, whose they are.
    """
    found = []
    for part in re.split(r"manage\.py ", line)[1:]:
        part = re.split(r"&&|\|\||;|\bthen\b|`|\)", part)[0]
        try:
            words = shlex.split(part)
        except ValueError:
            words = part.split()
        if not words:
            continue
        name, args = words[0], words[1:]
        options = [m.group(1) for word in args if (m := _OPTION.match(word.strip("[]()"))) and word != "--"]
        if name == "run_scheduler" and "--" in args:
            cut = args.index("--")
            own = [m.group(1) for w in args[:cut] if (m := _OPTION.match(w.strip("[]")))]
            passed = [m.group(1) for w in args[cut + 1 :] if (m := _OPTION.match(w.strip("[]")))]
            job = args[args.index("--once") + 1] if "--once" in args[:cut] else None
            found.append((name, own))
            if job:
                found.append((job, passed))
            continue
        found.append((name, options))
    return found
