# Otklik's image: the api, the workers and the scheduler run the same image with another
# command (docker-compose.yml). Everything is installed at build time from the repository
# with pip; nothing downloads when a container starts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    OTKLIK_DATA_DIR=/var/lib/otklik OTKLIK_HOST=0.0.0.0 OTKLIK_PORT=8000

# pg_dump/pg_restore for backups from the api container (docs/deploy.md).
RUN apt-get update -q && apt-get install -y -q --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/otklik
COPY pyproject.toml README.md LICENSE NOTICE alembic.ini ./
COPY src ./src
RUN pip install . && useradd --system --home /var/lib/otklik --create-home otklik

USER otklik
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4).status == 200 else 1)"
ENTRYPOINT ["otklik"]
CMD ["serve"]
