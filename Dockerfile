# syntax=docker/dockerfile:1.7
# The gateway's production image: one image for the web tier, the Celery
# worker, beat and the migrations Job (deploy/kubernetes/ picks the command).
# Build: docker build -t gateway:<version> .

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: the pinned virtual environment and the collected static files ---
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY requirements.txt .
# Every dependency is pinned in requirements.txt and ships as a wheel
# (psycopg-binary brings its own libpq), so no compiler in the build stage.
RUN /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -r requirements.txt
# The build context is only what .dockerignore lets through: the apps, the
# translations and manage.py (tests, benchmarks and docs stay out).
COPY . .
# Static files (the sidecar's Swagger UI and Redoc) are collected at build time,
# so the running container needs no writable application directory.
RUN DJANGO_SETTINGS_MODULE=gateway.settings.production SECRET_KEY=build-time-only \
    /opt/venv/bin/python manage.py collectstatic --no-input --verbosity 0 \
    && /opt/venv/bin/python -m compileall -q /app

# --- runtime: slim, non-root, nothing but the venv and the code ---
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=gateway.settings.production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/gateway-metrics \
    GATEWAY_COLLECTSTATIC=0
# The footfall report's PDF: WeasyPrint lays it out with pango (bookworm's
# 1.50; WeasyPrint needs >= 1.44) and DejaVu fonts, the only system libraries
# the gateway needs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0=1.50.12+ds-1 libpangoft2-1.0-0=1.50.12+ds-1 fonts-dejavu-core=2.37-6 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# The same liveness endpoint Kubernetes probes; python is the only tool the image has.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status != 200)"]
CMD ["python", "-m", "gateway.serve", "--host", "0.0.0.0", "--port", "8000"]
