# records-agent in a container: the wheel in a venv, run as an unprivileged user, all state in one volume.
#
#   docker build -t records-agent .
#   docker run -d --name records-agent \
#     -v records-agent-state:/var/lib/records-agent \
#     -v "$PWD/my-config.toml:/etc/records-agent/config.toml:ro" \
#     -e AGENT_IMAP_PASSWORD -e AGENT_SMTP_PASSWORD records-agent
#   docker exec records-agent agent status
#
# The config comes from $AGENT_CONFIG (default /etc/records-agent/config.toml, the example in deploy/
# until you mount your own); its paths must be absolute and under /var/lib/records-agent.
# `agent run` migrates the database by itself; logs are JSON lines on stderr.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY agent ./agent
COPY rules ./rules
COPY alembic ./alembic
# agent/bundled/ holds links to rules/ and alembic/; the wheel gets copies of the files behind them.
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AGENT_CONFIG=/etc/records-agent/config.toml \
    PATH=/opt/records-agent/bin:$PATH
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/records-agent --shell /usr/sbin/nologin records-agent \
    && install -d -o records-agent -g records-agent -m 0700 /var/lib/records-agent \
    && install -d -m 0755 /etc/records-agent
COPY --from=build /wheels /wheels
RUN python -m venv /opt/records-agent \
    && /opt/records-agent/bin/pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels
COPY deploy/config.example.toml /etc/records-agent/config.toml
USER records-agent
WORKDIR /var/lib/records-agent
VOLUME ["/var/lib/records-agent"]
# TERM lets the job in hand finish; give it time: docker stop --time 120.
STOPSIGNAL SIGTERM
ENTRYPOINT ["agent"]
CMD ["run"]
