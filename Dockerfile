# The same install as `make run`: the package with its platform extras, compiled catalogues,
# migrations applied at start. Runs as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 10001 maatje
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY flows ./flows
COPY adapters ./adapters
COPY locales ./locales
RUN pip install -e '.[slack,discord,teams,postgres]' \
 && pybabel compile --domain maatje --directory locales \
 && mkdir /data && chown maatje /data

USER maatje
ENV DATABASE_URL=sqlite:////data/maatje.db
EXPOSE 3000 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).read() == b'ok' else 1)"
# `maatje run` applies migrations before it starts the adapters.
CMD ["maatje", "run", "--config", "/app/config.toml"]
