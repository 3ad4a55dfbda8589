# The api service: a static binary (x86_64-unknown-linux-musl) on clnrm's busybox base.
# `cargo xtask chaos` (or `cargo xtask shop`) builds it and copies it to bin/api.
FROM clnrm-base:latest
COPY bin/api /api
EXPOSE 8080
ENTRYPOINT ["/api"]
