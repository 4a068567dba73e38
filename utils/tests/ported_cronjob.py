"""Commands as a club wrote them for the original Manage2Soar base class, for the porting test
(utils/tests/test_porting.py); tests only, never installed as commands.

They are written here, in the original's style (no type hints: a ported command has none),
making exactly the calls the original's demo command and its documented example make: the
original import path, ``job_name``, ``max_execution_time``, ``log_info``/``log_success``/
``log_warning``, writing to ``self.stdout`` and returning a text.
"""

from datetime import timedelta

from utils.management.commands.base_cronjob import BaseCronJobCommand


class Command(BaseCronJobCommand):
    help = "Checks that a command written for the original base class runs unchanged"
    job_name = "ported_cronjob"
    max_execution_time = timedelta(minutes=5)

    def execute_job(self, *args, **options):
        self.log_info("Porting check starting...")
        self.log_success("The base class answered every call")
        self.log_warning("This is a warning line")
        self.log_info("Porting check finished")
        return "Porting check completed"


class ExampleCommand(BaseCronJobCommand):
    """The shape of the original's "adding a new command" example."""

    job_name = "ported_example"
    max_execution_time = timedelta(minutes=30)

    def execute_job(self, *args, **options):
        self.stdout.write("Job executed successfully")
