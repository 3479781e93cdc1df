# waport in a container, for loads run from a scheduler or a pipeline.
#
#   docker build -t waport .
#   docker run --rm -v "$PWD:/data" -e WAZZUP_API_KEY waport \
#       import clientes.csv --to wazzup --rejects corregir.csv
#
# Keys come from the environment (-e NAME passes the host's value without
# writing it on the command line) or a waport.toml in the mounted folder;
# the journal lives in /data/.waport (WAPORT_JOURNAL) so re-runs resume.
# Not built in CI: the CI machine has neither Docker nor the network.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# --locked: the dependency versions of Cargo.lock, the ones the tests ran with.
RUN cargo build --release --locked --bin waport \
 && install -D -m 0755 target/release/waport /out/waport

# glibc and libgcc only (rustls, bundled SQLite): distroless/cc holds both.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/waport /usr/local/bin/waport
WORKDIR /data
ENV WAPORT_JOURNAL=/data/.waport/journal.sqlite \
    WAPORT_LOCK_DIR=/data/.waport/locks
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/waport"]
CMD ["--help"]
