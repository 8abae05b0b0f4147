# syntax=docker/dockerfile:1
# The sheetsync container image. `sheetsync` is the entrypoint, so the container's arguments are
# a sheetsync command line: `docker run IMAGE run --config /config/sheetsync.toml`. With no
# arguments it runs `serve` (its own nightly scheduler), watched by the HEALTHCHECK below.
#
#   docker build -t registry.example.com/sheetsync:0.1.0 .
#   docker push registry.example.com/sheetsync:0.1.0
#
# The Kubernetes CronJob in deploy/kubernetes/ runs this image with the same entrypoint.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Stage 1: sheetsync and its dependencies in a virtual environment. Every dependency installs
# from a binary wheel, so this stage needs no compiler either; the final stage only copies it.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/sheetsync
COPY pyproject.toml README.md ./
COPY sheetsync/ sheetsync/
RUN /opt/sheetsync/bin/pip install --prefer-binary . \
    && /opt/sheetsync/bin/sheetsync --version

# Stage 2: the slim Python base, the virtual environment, a non-root user. No compilers, no
# pip cache, no source tree.
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="sheetsync" \
      org.opencontainers.image.description="Scores OKR/KPI workbooks (Excel, Google Sheets), writes the results back, emails owners."
RUN groupadd --system --gid 10001 sheetsync \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/sheetsync \
       --no-create-home --shell /usr/sbin/nologin sheetsync \
    && install --directory --owner=10001 --group=10001 --mode=0750 /var/lib/sheetsync
COPY --from=build /opt/sheetsync /opt/sheetsync
ENV PATH=/opt/sheetsync/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SHEETSYNC_ALIVE_FILE=/tmp/sheetsync.alive
WORKDIR /var/lib/sheetsync
USER 10001:10001
# `serve` (and a `run` in progress) rewrites the liveness file at least once a minute while idle;
# the check fails when it goes stale (see sheetsync/ops/alive.py).
HEALTHCHECK --interval=1m --timeout=10s --start-period=2m --retries=3 \
    CMD ["python", "-m", "sheetsync.ops.alive"]
ENTRYPOINT ["sheetsync"]
CMD ["serve", "--config", "/config/sheetsync.toml"]
