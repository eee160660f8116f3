# One image for all three services; docker-compose.yml picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY core core
COPY pms_app pms_app
COPY crm_app crm_app
COPY dashboard dashboard
COPY migrations migrations
COPY templates templates
COPY static static
RUN useradd --system --uid 10001 guestsync && mkdir -p data && chown guestsync data
USER guestsync
