# What an OpenTelemetry SDK does for a service, in busybox sh: read the standard OTEL_*
# variables (clnrm sets them for every `otel = true` service) and export spans to
# $OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP JSON. Your own service uses its language's SDK
# instead and needs none of this.

# Wall-clock time in ns (busybox `date` has no %N; adjtimex reads the clock in µs).
now_ns() {
  adjtimex 2>/dev/null | awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { printf "%d%06d000", s, u }'
}

# n random bytes as hex: trace ids (16) and span ids (8).
rand_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# "k1=v1,k2=v2" (OTEL_RESOURCE_ATTRIBUTES) as OTLP/JSON string attributes.
kv_attrs() {
  printf '%s' "$1" | awk -v RS=, -F= 'NF >= 2 { sub(/\n$/, "", $2); printf "%s{\"key\":\"%s\",\"value\":{\"stringValue\":\"%s\"}}", (n++ ? "," : ""), $1, $2 }'
}

# otlp_span NAME KIND STATUS START_NS END_NS PARENT_TRACEPARENT ATTRS_JSON
#   KIND: 1 internal, 2 server, 3 client; STATUS: 1 OK, 2 ERROR.
#   PARENT_TRACEPARENT: a W3C traceparent (the request's header, or TRACEPARENT from the
#   environment); the span joins that trace, else it starts one.
otlp_span() {
  name=$1 kind=$2 status=$3 start=$4 end=$5 parent=$6 attrs=$7
  trace=$(rand_hex 16) parent_span=""
  case "$parent" in
    00-*-*-*) trace=$(echo "$parent" | cut -d- -f2); parent_span=$(echo "$parent" | cut -d- -f3) ;;
  esac
  resource="{\"key\":\"service.name\",\"value\":{\"stringValue\":\"${OTEL_SERVICE_NAME:-app}\"}}"
  extra=$(kv_attrs "${OTEL_RESOURCE_ATTRIBUTES:-}")
  [ -n "$extra" ] && resource="$resource,$extra"
  body="{\"resourceSpans\":[{\"resource\":{\"attributes\":[$resource]},\"scopeSpans\":[{\"scope\":{\"name\":\"app.sh\"},\"spans\":[{\"traceId\":\"$trace\",\"spanId\":\"$(rand_hex 8)\",\"parentSpanId\":\"$parent_span\",\"name\":\"$name\",\"kind\":$kind,\"startTimeUnixNano\":\"$start\",\"endTimeUnixNano\":\"$end\",\"attributes\":[$attrs],\"status\":{\"code\":$status}}]}]}]}"
  # OTEL_EXPORTER_OTLP_HEADERS is "k1=v1,k2=v2": one header each.
  set --
  for h in $(echo "${OTEL_EXPORTER_OTLP_HEADERS:-}" | tr ',' ' '); do
    set -- "$@" --header "${h%%=*}: ${h#*=}"
  done
  url=${OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:-${OTEL_EXPORTER_OTLP_ENDPOINT:-http://localhost:4318}/v1/traces}
  # `timeout`, not wget's -T: Debian's static busybox 1.35 wget segfaults with -T.
  timeout 5 wget -q -O /dev/null --header "Content-Type: application/json" "$@" --post-data "$body" "$url" \
    || echo "otlp: export of \"$name\" to $url failed" >&2
}
