# keycastd's container image: built from this source tree in a Debian 12
# stage, run from Debian 12 slim with only the shared libraries it links.
#
#   docker build -t keycastd:0.1.0 .
#   docker run --read-only --cap-drop=ALL --security-opt=no-new-privileges \
#     -e DATABASE_URL=… -e MASTER_KEY_PATH=/run/secrets/master.key \
#     -v "$PWD/master.key:/run/secrets/master.key:ro" keycastd:0.1.0
#
# keycastd is PID 1: it handles SIGTERM and SIGINT itself (the shutdown
# plan), starts no child process, and writes nothing to disk, so it runs
# as a non-root user, on a read-only root filesystem, with no capability.
# tests/integration/container.test proves what can be proven without a
# container runtime: serve as PID 1 of its own PID namespace (read-only
# root, no capability, not root) runs its plan to the final line on
# SIGTERM; every file copied below is what `make install` puts there; the
# runtime packages below provide every library the binary links.

FROM debian:12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
	build-essential autoconf automake libtool pkg-config \
	libevent-dev libyaml-dev libsecp256k1-dev libpq-dev libcjson-dev libssl-dev \
	libwslay-dev \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN ./autogen.sh \
	&& ./configure --prefix=/usr/local \
	&& make -j"$(nproc)" keycastd \
	&& make install-strip DESTDIR=/out

FROM debian:12-slim
# runtime packages: one per library the binary links (container.test checks it).
RUN apt-get update && apt-get install -y --no-install-recommends \
	libevent-2.1-7 libevent-openssl-2.1-7 libyaml-0-2 libsecp256k1-1 libpq5 \
	libcjson1 libssl3 libwslay1 ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& groupadd --system --gid 10001 keycastd \
	&& useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin keycastd
# runtime files: each from `make install DESTDIR=/out` (container.test checks it).
COPY --from=build /out/usr/local/bin/keycastd /usr/local/bin/keycastd
COPY --from=build /out/usr/local/share/keycastd/plans/default.yaml /usr/local/share/keycastd/plans/default.yaml
COPY --from=build /out/usr/local/share/keycastd/plans/dev.yaml /usr/local/share/keycastd/plans/dev.yaml
COPY --from=build /out/usr/local/share/man/man8/keycastd.8 /usr/local/share/man/man8/keycastd.8

USER 10001:10001
# The API (PORT) and the probes and /metrics (PROBE_PORT).
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
LABEL org.opencontainers.image.title="keycastd" \
	org.opencontainers.image.description="Nostr remote-signing daemon (NIP-46 bunker) with a declarative shutdown plan"
ENTRYPOINT ["/usr/local/bin/keycastd"]
CMD ["serve"]
