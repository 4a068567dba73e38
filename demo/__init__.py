"""The demo club behind ``manage.py seed_demo``: deterministic, realistic, with known findings.

The club is built in *sections*. Scale N builds N independent copies of the scale-1 club (own
airfields, aircraft and members) on one shared calendar, so every finding multiplies by N.
Each section draws from its own ``random.Random(f"{seed}:section:{n}")``: the same seed,
scale and day give the same rows, and section n is the same at every scale. Rows are built in
Python and written with ``bulk_create``, one section at a time, so memory stays flat.

What every scheduled job should find is planned, not left to chance (see docs/demo-club.md):
the member plan (``plan``) fixes who flies, who does duty and the edge cases around the duty rule.

Modules, in the order a build uses them: ``club`` (the whole build, one transaction), ``reset``
(club data already there), ``calendar`` (the shared flying days), ``section`` (one section's
steps), ``plan`` and ``people`` (members), ``fleet`` (airfields, aircraft), ``crews`` (duty
turns), ``flying`` with ``logsheets``, ``flights`` and ``progress_reports`` (the year of
flying), ``roster``, ``maintenance``, and ``summary`` (what was built, what jobs should find).
The package imports no model here: Django loads it as an app before the models are ready.
"""
