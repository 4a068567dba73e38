"""Student Progress Reports (SPRs): what an instructor writes about a student's flight day."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class InstructionReport(models.Model):
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="instruction_reports"
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="instruction_reports_written"
    )
    report_date = models.DateField(help_text="The flight date the report is about.")
    report_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-report_date"]
        verbose_name = "student progress report"
        constraints = [
            models.UniqueConstraint(
                fields=["student", "instructor", "report_date"], name="one_report_per_student_instructor_day"
            )
        ]

    def __str__(self) -> str:
        return f"SPR {self.report_date} {self.student} by {self.instructor}"
