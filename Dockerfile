FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY policies ./policies
# The policies also ship inside the package (the demo and the default policy); the copy in
# /app/policies is the default FOLLOWBACK_POLICY, and a host folder mounted there replaces it.
RUN pip install . && rm -rf build ./*.egg-info \
    && useradd --create-home --uid 10001 followback \
    && mkdir -p /app/data && chown followback /app/data

USER followback
# Defaults (relative to /app): FOLLOWBACK_POLICY=policies/late-and-announced.yaml,
# FOLLOWBACK_DATABASE=data/followback.sqlite3 (keep it on a volume).
VOLUME ["/app/data"]
ENTRYPOINT ["followback"]
CMD ["run"]
