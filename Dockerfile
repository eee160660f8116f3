# One image for all three services and the worker; the compose files pick the command.
# Stage 1 builds the virtualenv (compilers and caches stay here); stage 2 is what runs.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY core core
COPY pms_app pms_app
COPY crm_app crm_app
COPY dashboard dashboard
COPY migrations migrations
COPY templates templates
COPY static static
RUN useradd --system --uid 10001 --no-create-home guestsync && mkdir -p data && chown guestsync data
USER guestsync
# PMS API, CRM API, dashboard, standalone worker's metrics.
EXPOSE 4001 5001 8080 4002
# Probes this container's /api/v1/ready on $APP_PORT, or $HEALTHCHECK_URL (the compose files
# set one per service). start-interval needs Docker Engine 25+; older engines ignore it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --start-interval=1s --retries=3 \
    CMD ["python", "-m", "core.probe"]
# Exec form: Python is PID 1 and receives SIGTERM itself (its handler stops cleanly).
CMD ["python", "-m", "pms_app"]
