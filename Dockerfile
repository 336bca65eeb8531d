FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY policies ./policies
RUN pip install . && useradd --create-home --uid 10001 followback \
    && mkdir -p /app/data && chown followback /app/data

USER followback
VOLUME ["/app/data"]
ENTRYPOINT ["followback"]
CMD ["run"]
