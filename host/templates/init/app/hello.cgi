#!/bin/sh
# GET /cgi-bin/hello: one server span per request, a child of the caller's span when the
# request carries a W3C `traceparent` header (httpd passes it as HTTP_TRACEPARENT).
. /app/otlp.sh
start=$(now_ns)
printf 'Content-Type: text/plain\r\n\r\nhello from %s\n' "${OTEL_SERVICE_NAME:-app}"
otlp_span "GET /cgi-bin/hello" 2 1 "$start" "$(now_ns)" "${HTTP_TRACEPARENT:-}" \
  '{"key":"http.request.method","value":{"stringValue":"GET"}},{"key":"http.response.status_code","value":{"intValue":"200"}}'
