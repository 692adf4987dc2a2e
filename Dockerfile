FROM python:3.11-slim
# A container listens on every interface (published ports reach it there); debug stays off.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WEB_BIND=0.0.0.0
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
# The runtime lock alone first, so a code change reuses this layer; every package is hash-checked.
COPY requirements/main.txt requirements/main.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/main.txt
COPY . .
# The project itself: no dependencies (all above), built with the locked setuptools.
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . \
 && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2"]
