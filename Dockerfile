# `make demo` in a container: docker build -t microseg-demo . && docker run --rm microseg-demo
# (docs/orchestration.md#docker). The image holds the virtual environment `make demo`
# bootstraps; the demo's data, DuckDB file and report go to /app/build (mount it to keep
# them: -v "$PWD/build-docker:/app/build").
FROM python:3.11-slim

# make runs the Makefile; nothing else is needed (every dependency installs as a wheel).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*

# Not root. The dev hash salt goes to ~/.config/microseg, outside the project; /app is
# made the user's before WORKDIR, which would create it as root.
RUN useradd --create-home --uid 1000 microseg \
    && mkdir /app \
    && chown microseg:microseg /app
WORKDIR /app
COPY --chown=microseg:microseg . /app
USER microseg

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1
# The Makefile's own bootstrap of .venv with what `make demo` runs (requirements.lock),
# done once here so that a container starts with the demo itself.
RUN make venv-runtime

# EVENTS and SEED are the Makefile's: docker run --rm -e EVENTS=100000 microseg-demo
CMD ["make", "demo"]
