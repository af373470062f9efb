# The ganglion image, from Debian 12 packages only (the same list as make and CI).
# Built and run with docker.io 20.10 and docker-compose 1.29 (Debian 12): see
# docs/operations.md ("Docker") and tests/cluster/docker/compose-failover.sh.
FROM debian:12 AS build
WORKDIR /src
# the packages first, so that a source change does not download them again; only the
# build section of the list (the clients below it are for tests)
COPY .ci/packages.txt .ci/packages.txt
RUN apt-get update && apt-get install -y --no-install-recommends \
      $(sed -n '/^# build/,/^# real clients/p' .ci/packages.txt | grep -v '^#')
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGN_TESTS=OFF -DGN_BENCH=OFF \
 && cmake --build build -j"$(nproc)"

FROM debian:12
# the shared libraries ganglion links, and libwebsockets' libuv event-loop plugin, which
# it loads at run time (without it the HTTP listener cannot start)
RUN apt-get update && apt-get install -y --no-install-recommends \
      libuv1 libjansson4 zlib1g libsnappy1v5 liblz4-1 libzstd1 libisal2 libwebsockets17 \
      libwebsockets-evlib-uv libraft2 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/ganglion /src/build/ganglion-users /usr/local/bin/
VOLUME /var/lib/ganglion
EXPOSE 9092 1883 8080 9093 9094
ENTRYPOINT ["ganglion", "--data.dir=/var/lib/ganglion"]
