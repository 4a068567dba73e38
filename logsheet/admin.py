from __future__ import annotations

from django.contrib import admin

from logsheet.models import CREW_FIELDS, Airfield, Flight, Glider, Logsheet, Towplane


@admin.register(Airfield)
class AirfieldAdmin(admin.ModelAdmin):
    list_display = ("identifier", "name", "is_active")


@admin.register(Glider)
class GliderAdmin(admin.ModelAdmin):
    list_display = ("n_number", "competition_number", "make", "model", "seats", "is_active")


@admin.register(Towplane)
class TowplaneAdmin(admin.ModelAdmin):
    list_display = ("n_number", "name", "make", "model", "is_active")


class FlightInline(admin.TabularInline):
    model = Flight
    extra = 0
    raw_id_fields = ("pilot", "instructor", "tow_pilot")


@admin.register(Logsheet)
class LogsheetAdmin(admin.ModelAdmin):
    list_display = ("log_date", "airfield", "duty_officer", "finalized")
    list_filter = ("finalized", "airfield")
    date_hierarchy = "log_date"
    # The crew (from DutyCrew) would come first by default.
    fields = ("log_date", "airfield", "created_by", "finalized", *CREW_FIELDS)
    raw_id_fields = ("created_by", *CREW_FIELDS)
    inlines = [FlightInline]


@admin.register(Flight)
class FlightAdmin(admin.ModelAdmin):
    list_display = ("logsheet", "pilot", "instructor", "glider", "launch_time", "landing_time")
    raw_id_fields = ("logsheet", "pilot", "instructor", "tow_pilot")
