# The store service: a static binary (x86_64-unknown-linux-musl) on clnrm's busybox base.
# `cargo xtask chaos` (or `cargo xtask shop`) builds it and copies it to bin/store.
FROM clnrm-base:latest
COPY bin/store /store
EXPOSE 8081
ENTRYPOINT ["/store"]
