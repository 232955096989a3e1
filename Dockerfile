# One image for the API and the workers (the GPU model server is LMDeploy's own image).
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
# The lock pins torch==2.13.0; in an image take the CPU wheel from PyTorch's CPU index.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock
COPY taxonomy taxonomy
COPY extractor extractor
COPY indexer indexer
COPY search_api search_api
RUN pip install --no-cache-dir --no-deps -e .
ENV CATALOG_HOME=/data
EXPOSE 8000
CMD ["catalog", "serve", "--host", "0.0.0.0", "--port", "8000"]
