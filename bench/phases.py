#!/usr/bin/env python3
"""Where a clnrm run's time went, phase by phase, from its own report.

Usage: bench/phases.py REPORT.json [T0_MS T1_MS]

REPORT.json is a `<name>.report.json` of a run of one scenario (the bench's kill scenario);
T0_MS / T1_MS are the wall-clock start and end of the `clnrm run` process in Unix ms (the
bench takes them around the process), which adds the start-up and the tail after the trace
(reports, export, exit). Every figure comes from span start/end times the run recorded:

  start-up            process start -> clnrm.run opens (parse, plugin resolve, Docker connect, gc)
  network create      clnrm.scenario opens -> first clnrm.service.start (about 0 without a network
                      of its own: network.mode = "none")
  container start     clnrm.service.start (create + start)
  until the fault     step start -> the fault span's start + delay_ms (the configured wait)
  docker kill         -> the fault's signal.sent event (Docker's kill returns once the
                      container is dead)
  step -> cleanup     the step ends -> clnrm.cleanup opens (classification, recovery probe)
  remove              clnrm.cleanup opens -> its network.remove event (container, network)
  verification        clnrm.cleanup.verification
  tail                clnrm.run ends -> process exit (validators, digest, reports, export)

Prints one line per phase (ms) and `@bench phase_<key>_ms <value>` lines.
"""
import json
import sys


def main() -> int:
    if len(sys.argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    report = json.load(open(sys.argv[1]))
    spans = report["spans"]
    epoch_ms = report["epoch_unix_ns"] / 1e6

    def one(pred, what):
        found = [s for s in spans if pred(s)]
        if not found:
            raise SystemExit(f"phases: no {what} span in {sys.argv[1]}")
        return found[0]

    def event(span, name):
        for e in span.get("events", []):
            if e["name"] == name:
                return e["time_ns"]
        return None

    run = one(lambda s: s["name"] == "clnrm.run", "clnrm.run")
    scenario = one(lambda s: s["name"] == "clnrm.scenario", "clnrm.scenario")
    start = one(lambda s: s["name"] == "clnrm.service.start", "clnrm.service.start")
    step = one(lambda s: s["name"].startswith("clnrm.step:"), "clnrm.step:*")
    cleanup = one(lambda s: s["name"] == "clnrm.cleanup", "clnrm.cleanup")
    verify = one(lambda s: s["name"] == "clnrm.cleanup.verification", "verification")
    fault = next((s for s in spans if event(s, "signal.sent")), None)
    sent = event(fault, "signal.sent") if fault else None
    delay = dict((k, v) for k, v in fault["attrs"]).get("delay_ms", 0) if fault else 0
    fire = fault["start_ns"] + delay * 1_000_000 if fault else None
    net_rm = event(cleanup, "network.remove") or verify["start_ns"]

    ms = lambda a, b: (b - a) / 1e6
    if len(sys.argv) == 4:
        t0, t1 = float(sys.argv[2]), float(sys.argv[3])
    rows = [
        ("network_create", "network create", scenario["start_ns"], start["start_ns"]),
        ("container_start", "container start", start["start_ns"], start["end_ns"]),
    ]
    if sent is not None:
        rows += [
            ("until_fault", "until the fault", step["start_ns"], fire),
            ("docker_kill", "docker kill", fire, max(sent, step["end_ns"])),
        ]
        last = max(sent, step["end_ns"])
    else:
        rows.append(("step", "step", step["start_ns"], step["end_ns"]))
        last = step["end_ns"]
    rows += [
        ("step_to_cleanup", "step -> cleanup", last, cleanup["start_ns"]),
        ("remove", "remove", cleanup["start_ns"], net_rm),
        ("verification", "verification", net_rm, verify["end_ns"]),
    ]
    out = []
    if len(sys.argv) == 4:
        out.append(("startup", "start-up", epoch_ms + run["start_ns"] / 1e6 - t0))
    out += [(k, label, ms(a, b)) for k, label, a, b in rows]
    if len(sys.argv) == 4:
        out.append(("tail", "tail", t1 - (epoch_ms + run["end_ns"] / 1e6)))
    total = sum(v for _, _, v in out)
    for k, label, v in out:
        print(f"  {label:<22} {v:8.1f} ms")
    print(f"  {'sum':<22} {total:8.1f} ms")
    for k, _, v in out:
        print(f"@bench phase_{k}_ms {v:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
