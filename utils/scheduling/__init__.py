"""The local scheduler: the job registry's schedules, run as child processes without Kubernetes.

``slots`` decides which scheduled slots are due (the missed-run rule), ``dst`` explains how
daylight saving time moves them, ``children`` starts ``manage.py <job>`` processes,
``records`` is the little the scheduler writes itself, and ``scheduler`` ties them together
around an injectable clock. See docs/scheduling.md.
"""
