# chirpflow: a small, non-root image. Dependencies come pinned from requirements.lock.
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY chirpflow ./chirpflow
RUN /opt/venv/bin/pip install --no-deps .

FROM python:3.12-slim
LABEL org.opencontainers.image.title="chirpflow" \
      org.opencontainers.image.description="Tweets in, LLM analysis, PostgreSQL, alerts"
RUN groupadd --system --gid 10001 chirpflow \
    && useradd --system --uid 10001 --gid chirpflow --home-dir /var/lib/chirpflow \
       --create-home chirpflow
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CHIRPFLOW_HOME=/var/lib/chirpflow \
    CHIRPFLOW_METRICS_PORT=9464 \
    CHIRPFLOW_LOG_FORMAT=json
WORKDIR /var/lib/chirpflow
USER 10001:10001
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CHIRPFLOW_METRICS_PORT', '9464'), timeout=4)"]
ENTRYPOINT ["chirpflow"]
CMD ["run", "--quiet"]
