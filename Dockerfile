# The ganglion image, from Debian 12 packages only (the same list as make and CI).
FROM debian:12 AS build
WORKDIR /src
COPY . .
# only the build section of the list (the clients below it are for tests)
RUN apt-get update && apt-get install -y --no-install-recommends \
      $(sed -n '/^# build/,/^# real clients/p' .ci/packages.txt | grep -v '^#') \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGN_TESTS=OFF -DGN_BENCH=OFF \
 && cmake --build build -j"$(nproc)"

FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends \
      libuv1 libjansson4 zlib1g libsnappy1v5 liblz4-1 libzstd1 libisal2 libwebsockets17 libraft2 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/ganglion /src/build/ganglion-users /usr/local/bin/
VOLUME /var/lib/ganglion
EXPOSE 9092 1883 8080 9093 9094
ENTRYPOINT ["ganglion", "--data.dir=/var/lib/ganglion"]
