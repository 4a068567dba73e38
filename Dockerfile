# syntax=docker/dockerfile:1
# Manage2Soar: one image for the web Deployment, the migration Job and every CronJob.
# Multi-stage: the build stage has pip's caches; the final stage has no compilers, runs as a
# non-root user and works with a read-only root filesystem (only /tmp is written).

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
# The runtime requirements only (development tools are in requirements-dev.txt), every package
# pinned with its hashes and installed from wheels: what was locked is what runs.
RUN /opt/venv/bin/pip install --no-compile --require-hashes --only-binary=:all: -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm AS final
LABEL org.opencontainers.image.title="manage2soar" \
      org.opencontainers.image.description="Manage2Soar web app and scheduled jobs"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=manage2soar.settings \
    STATIC_ROOT=/app/staticfiles \
    DATA_DIR=/tmp/manage2soar
RUN groupadd --system --gid 10001 manage2soar \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin manage2soar
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root . /app
# Static files are collected at build time: the running container can't write to /app.
RUN DEBUG=1 SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0 \
 && python -m compileall -q /app /opt/venv
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["gunicorn", "manage2soar.wsgi", "--bind=0.0.0.0:8000", "--workers=2", "--worker-tmp-dir=/tmp", "--access-logfile=-", "--config=python:deploy.gunicorn"]
