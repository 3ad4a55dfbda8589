#!/bin/sh
# The service: busybox httpd on :8080, GET /cgi-bin/hello answers and exports a server span.
# Its start-up span joins clnrm's trace through TRACEPARENT (the span that started the
# container), as OpenTelemetry SDKs that read the environment carrier do.
. /app/otlp.sh
start=$(now_ns)
# (a real service would load its configuration, open its pools, ... here)
otlp_span "app.startup" 1 1 "$start" "$(now_ns)" "${TRACEPARENT:-}" ""
exec httpd -f -p 8080 -h /www
