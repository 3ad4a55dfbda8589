#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for tests/reports_e2e.rs.

    python3 tests/otlp_receiver.py SUMMARY.json

Listens on 127.0.0.1 on a free port and prints that port on its first line of
stdout. Every POST body is decoded as an OTLP/HTTP protobuf
ExportTraceServiceRequest with the official opentelemetry-proto Python
definitions (PyPI `opentelemetry-proto`); a body that does not decode gets a
400. After each request SUMMARY.json is rewritten (atomically) with
everything received so far:

    {"requests": [{"path", "content_type", "resource": {key: value},
                   "spans": [{"name", "trace_id", "span_id", "parent_span_id",
                              "kind", "status_code", "status_message",
                              "start_time_unix_nano", "end_time_unix_nano",
                              "attributes": {key: value}, "events": [name]}]}]}

Ids are lower-case hex. Runs until killed.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)


def any_value(v):
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind in ("array_value", "kvlist_value"):
        return str(getattr(v, kind))
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attrs(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def summarise(req, path, content_type):
    out = []
    for rs in req.resource_spans:
        spans = []
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append(
                    {
                        "name": s.name,
                        "trace_id": s.trace_id.hex(),
                        "span_id": s.span_id.hex(),
                        "parent_span_id": s.parent_span_id.hex(),
                        "kind": s.kind,
                        "status_code": s.status.code,
                        "status_message": s.status.message,
                        "start_time_unix_nano": s.start_time_unix_nano,
                        "end_time_unix_nano": s.end_time_unix_nano,
                        "attributes": attrs(s.attributes),
                        "events": [e.name for e in s.events],
                        "scope": ss.scope.name,
                    }
                )
        out.append(
            {
                "path": path,
                "content_type": content_type,
                "resource": attrs(rs.resource.attributes),
                "spans": spans,
            }
        )
    return out


class Handler(BaseHTTPRequestHandler):
    received = []
    summary_path = None

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        try:
            req = ExportTraceServiceRequest.FromString(body)
        except Exception as e:  # a body that is not OTLP protobuf
            self.send_response(400)
            self.end_headers()
            self.wfile.write(str(e).encode())
            return
        for entry in summarise(req, self.path, self.headers.get("Content-Type", "")):
            Handler.received.append(entry)
        tmp = Handler.summary_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"requests": Handler.received}, f)
        os.replace(tmp, Handler.summary_path)
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, fmt, *args):
        sys.stderr.write("otlp_receiver: " + (fmt % args) + "\n")


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    Handler.summary_path = sys.argv[1]
    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
