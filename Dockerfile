# KTO's image: the web process (gunicorn), the Celery worker and the beat all run from it
# (compose.yaml). Production settings; every secret comes from the environment at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=kto.settings.production \
    KTO_BIND=0.0.0.0:8000

# gettext compiles the translations; Pango draws the PDFs (WeasyPrint).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements-production.lock ./
RUN pip install --require-hashes -r requirements-production.lock

COPY . .
# The production settings refuse to load without their variables: the build steps get dummy ones
# (in this RUN only; the image keeps none of them).
RUN pip install --no-deps . \
 && export DJANGO_SECRET_KEY=build-only KTO_ADDRESS_HASH_KEY=build-only-not-a-secret-0123456789abcdef \
    DJANGO_ALLOWED_HOSTS=build KTO_BASE_URL=https://build.invalid \
    DATABASE_URL=postgres://build@build.invalid/build REDIS_URL=redis://build.invalid:6379/0 \
 && python manage.py compilemessages --ignore=.venv -v0 \
 && python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 10001 --home-dir /app kto

USER kto
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["gunicorn", "-c", "kto/gunicorn.conf.py", "kto.wsgi"]
