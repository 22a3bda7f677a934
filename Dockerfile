# syncd in a container: `syncd run` (the scheduler daemon) by default; any syncd command as arguments.
#
#   docker build -t syncd .
#   docker run -d --name syncd -v syncd-data:/var/lib/syncd \
#     -v "$PWD/syncd.toml:/etc/syncd/syncd.toml:ro" -e SYNCD_SOURCES__ACME__TOKEN=... syncd
#
# The SQLite store, lock files and the daemon's heartbeat live in the /var/lib/syncd volume. The
# HEALTHCHECK runs `syncd health`: healthy while the daemon's heartbeat (written every
# daemon.heartbeat_seconds after renewing its claims in the database) is fresh. For `syncd serve`,
# check GET /healthz instead (see README, Deployment).

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncd ./syncd
COPY connectors ./connectors
COPY reports ./reports
RUN pip install --no-cache-dir --root-user-action=ignore --prefix=/install .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SYNCD_CONFIG=/etc/syncd/syncd.toml \
    SYNCD_DATA_DIR=/var/lib/syncd \
    MPLCONFIGDIR=/tmp/matplotlib
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/syncd --shell /usr/sbin/nologin syncd \
    && mkdir -p /var/lib/syncd /etc/syncd \
    && chown syncd:syncd /var/lib/syncd
COPY --from=build /install /usr/local
USER syncd
WORKDIR /var/lib/syncd
VOLUME ["/var/lib/syncd"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["syncd", "health"]
ENTRYPOINT ["syncd"]
CMD ["run"]
