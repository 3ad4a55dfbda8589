// clnrm HTML report: draws the embedded JSON report (docs/reports.md#html-report).
// Plain DOM, no libraries, no network. Waterfall rows are created only when their
// parent is expanded (and at most PAGE children at a time), so a 10k-span trace
// opens as fast as a small one.
(function () {
  'use strict';
  var PAGE = 500;
  var R = JSON.parse(document.getElementById('clnrm-report').textContent);
  var spans = R.spans || [];
  var byId = new Map(), kids = new Map(), roots = [];
  spans.forEach(function (s) { byId.set(s.id, s); });
  spans.forEach(function (s) {
    if (s.parent != null && byId.has(s.parent)) {
      if (!kids.has(s.parent)) kids.set(s.parent, []);
      kids.get(s.parent).push(s);
    } else roots.push(s);
  });
  kids.forEach(function (list) { list.sort(function (a, b) { return a.start_ns - b.start_ns || a.id - b.id; }); });
  var t0 = Infinity, t1 = -Infinity;
  spans.forEach(function (s) { t0 = Math.min(t0, s.start_ns); t1 = Math.max(t1, s.end_ns || 0, s.start_ns); });
  if (!isFinite(t0)) { t0 = 0; t1 = 1; }
  var total = Math.max(1, t1 - t0);
  spans.forEach(function (s) { if (s.end_ns == null) s.end_ns = s.start_ns; });

  // ---- helpers -------------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    return e;
  }
  function attr(s, key) {
    var v;
    (s.attrs || []).forEach(function (kv) { if (kv[0] === key) v = kv[1]; });
    return v;
  }
  function event(s, name) {
    return (s.events || []).filter(function (e) { return e.name === name; })[0];
  }
  function fmtNs(ns) {
    if (ns < 1e6) return (ns / 1e3).toFixed(0) + ' µs';
    if (ns < 1e9) return (ns / 1e6).toFixed(1) + ' ms';
    return (ns / 1e9).toFixed(2) + ' s';
  }
  function fmtMs(ms) { return ms == null ? '' : ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(2) + ' s'; }
  function pct(ns) { return ((ns - t0) / total * 100).toFixed(4) + '%'; }
  function kv(list) {
    return (list || []).map(function (p) { return p[0] + '=' + JSON.stringify(p[1]); }).join(', ');
  }
  function scenarioOf(s) {
    while (s && s.name !== 'clnrm.scenario') s = s.parent != null ? byId.get(s.parent) : null;
    return s;
  }
  function isCleanup(s) { return /^clnrm\.(cleanup|recovery)|\.recovery$/.test(s.name); }

  // ---- faults: drawn where and when they were observed -------------------
  // A fault span carries `chaos.observed` (docs/spans.md); only an observed
  // one gets a marker. Its time is the observation itself: signal + the
  // measured delay, else the event that proved it, else the span's end.
  var OBS_EVENTS = ['container.paused', 'network.disconnected', 'network.degraded', 'filler.written', 'fault.observed'];
  var CONFIG_KEYS = ['chaos.type', 'target.service', 'delay_ms', 'delay.jitter_ms', 'signal', 'grace_period_ms',
    'duration_ms', 'chaos.observed', 'scenario.name', 'resource.type', 'network.name'];
  function proof(s) {
    return (s.events || []).filter(function (e) {
      return OBS_EVENTS.indexOf(e.name) >= 0 || /\.in_force$/.test(e.name);
    })[0];
  }
  function observedAt(s) {
    var sig = event(s, 'signal.sent'), after = attr(s, 'observed.after_ms'), t = s.end_ns, e = proof(s);
    if (sig && typeof after === 'number') t = sig.time_ns + after * 1e6;
    else if (e) t = e.time_ns;
    return Math.min(Math.max(t, s.start_ns), s.end_ns);
  }
  function affectedRow(s, t) {
    var sc = scenarioOf(s);
    var steps = ((sc && kids.get(sc.id)) || []).filter(function (k) { return k.name.indexOf('clnrm.step:') === 0; });
    var target = attr(s, 'target.service');
    var mine = steps.filter(function (k) { return attr(k, 'service.id') === target; });
    var pool = mine.length ? mine : steps.filter(function (k) { return k.start_ns <= t && t <= k.end_ns; });
    if (!pool.length) return s.id;
    var dist = function (k) { return t < k.start_ns ? k.start_ns - t : t > k.end_ns ? t - k.end_ns : 0; };
    return pool.slice().sort(function (a, b) { return dist(a) - dist(b) || a.start_ns - b.start_ns; })[0].id;
  }
  var markers = new Map(), faultCount = 0;
  spans.forEach(function (s) {
    if (attr(s, 'chaos.observed') !== true) return;
    var t = observedAt(s), row = affectedRow(s, t);
    var seen = (s.attrs || []).filter(function (p) { return CONFIG_KEYS.indexOf(p[0]) < 0; });
    // The label: what was seen, not how long seeing it took (that is in the tooltip).
    var shown = seen.filter(function (p) { return p[0] !== 'observed.after_ms'; })
      .map(function (p) { return p[0] + '=' + JSON.stringify(p[1]); });
    if (!shown.length && proof(s)) shown = [proof(s).name];
    var f = { span: s, t: t, row: row, type: attr(s, 'chaos.type') || s.name, seen: seen, shown: shown };
    if (!markers.has(row)) markers.set(row, []);
    markers.get(row).push(f);
    faultCount++;
  });

  // ---- services: an application's spans (received over OTLP, `app` set) --
  // get one colour per service; clnrm's own keep the status colours.
  var SERVICE_COLOURS = ['#1565c0', '#6a1b9a', '#00838f', '#ad1457', '#5d4037', '#558b2f', '#283593', '#f9a825'];
  var services = [];
  spans.forEach(function (s) { if (s.app && services.indexOf(s.app.service) < 0) services.push(s.app.service); });
  services.sort();
  function serviceColour(name) { return SERVICE_COLOURS[services.indexOf(name) % SERVICE_COLOURS.length]; }
  // Fault windows (a clnrm fault span, start to end), drawn across every row
  // when applications sent spans: their spans read against the faults.
  var windows = services.length ? spans.filter(function (s) {
    return !s.app && attr(s, 'chaos.type') != null && s.end_ns > s.start_ns;
  }) : [];

  // ---- header --------------------------------------------------------------
  var app = document.getElementById('app');
  var scen = R.scenarios || [], exps = R.expectations || [];
  var head = el('header', 'header');
  var h1 = el('h1', null, R.name);
  var v = el('span', 'verdict ' + (R.passed ? 'pass' : 'fail'), R.passed ? 'PASS' : 'FAIL');
  v.setAttribute('data-verdict', R.passed ? 'pass' : 'fail');
  h1.appendChild(v);
  head.appendChild(h1);
  if (R.replay) head.appendChild(el('div', 'alert', 'replayed from ' + R.replay + ' (no Docker: scenario rows are rebuilt from the trace)'));
  if (R.interrupted) head.appendChild(el('div', 'alert', 'interrupted: later scenarios and the validators did not run'));
  if (R.environment_error) head.appendChild(el('div', 'alert', 'environment error: ' + R.environment_error));
  if (R.invalid) head.appendChild(el('div', 'alert', 'invalid: ' + R.invalid));
  var errors = spans.filter(function (s) { return s.status === 'ERROR'; }).length;
  var facts = [
    ['suite', R.path || ''],
    ['seed', R.seed],
    ['digest', R.digest],
    ['started', R.started_at || ''],
    ['duration', fmtMs(R.duration_ms)],
    ['scenarios', scen.filter(function (s) { return s.passed; }).length + ' / ' + scen.length + ' passed'],
    ['expectations', exps.filter(function (e) { return e.passed; }).length + ' / ' + exps.length + ' passed'],
    ['spans', spans.length + ' (' + errors + ' ERROR), ' + faultCount + ' observed fault(s)'],
    ['run id / trace id', (R.run_id || '') + ' / ' + (R.trace_id || '')]
  ];
  if (services.length) {
    var nApp = spans.filter(function (s) { return s.app; }).length, out = R.digest_app_spans_left_out || 0;
    facts.push(['application spans', nApp + ' from ' + services.join(', ') +
      (out ? '; ' + out + ' left out of the digest' : '; in the digest (digest_app_spans)')]);
  }
  var dl = el('dl', 'facts');
  facts.forEach(function (f) {
    dl.appendChild(el('dt', null, f[0]));
    var dd = el('dd', f[0] === 'digest' ? 'mono' : null, f[1]);
    dd.setAttribute('data-fact', f[0]);
    dl.appendChild(dd);
  });
  head.appendChild(dl);
  var links = el('div', 'links');
  links.appendChild(el('span', 'muted', 'other reports: '));
  ['report.json', 'junit.xml', 'trace.sha256', 'cleanup.json', 'otlp.jsonl'].forEach(function (sfx) {
    var a = el('a', 'report-link', R.name + '.' + sfx);
    a.setAttribute('href', encodeURIComponent(R.name) + '.' + sfx);
    links.appendChild(a);
  });
  head.appendChild(links);
  app.appendChild(head);

  // ---- scenarios -----------------------------------------------------------
  app.appendChild(el('h2', null, 'Scenarios'));
  var scenarioSpan = new Map();
  spans.forEach(function (s) { if (s.name === 'clnrm.scenario') scenarioSpan.set(attr(s, 'scenario.name'), s); });
  function table(cols, rows) {
    var t = el('table'), tr = el('tr');
    cols.forEach(function (c) { tr.appendChild(el('th', null, c)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c) {
        var td = el('td');
        if (c instanceof Node) td.appendChild(c); else td.textContent = c == null ? '' : String(c);
        row.appendChild(td);
      });
      t.appendChild(row);
    });
    return t;
  }
  function scenarioDetail(sc) {
    var d = el('div', 'scenario-detail'), ss = scenarioSpan.get(sc.name);
    if (sc.reason) d.appendChild(el('div', 'bad', 'reason: ' + sc.reason));
    if (sc.environment_error) d.appendChild(el('div', 'alert', 'environment error: ' + sc.environment_error));
    var stepSpans = new Map();
    ((ss && kids.get(ss.id)) || []).forEach(function (k) { if (k.name.indexOf('clnrm.step:') === 0) stepSpans.set(k.name.slice(11), k); });
    d.appendChild(el('div', null, 'steps'));
    d.appendChild(table(['step', 'service', 'result', 'exit', 'error type', '', 'duration'], (sc.steps || []).map(function (st) {
      var sp = stepSpans.get(st.name), mark = el('span');
      if (sp && attr(sp, 'degraded') === true) { mark = el('span', 'degraded', 'degraded'); mark.title = 'passed while a fault hit its service'; }
      var name = el('span', 'step-name', st.name);
      if (sp) { name = spanLink(sp.id, st.name); }
      return [name, st.service, el('span', st.result === 'pass' ? 'ok' : 'bad', st.result), st.exit_code,
        st.error_type, mark, fmtMs(st.duration_ms)];
    })));
    (sc.steps || []).forEach(function (st) {
      if (!st.stdout && !st.stderr) return;
      var det = el('details'); det.appendChild(el('summary', 'muted', 'output of ' + st.name));
      if (st.stdout) det.appendChild(el('pre', 'out', st.stdout));
      if (st.stderr) det.appendChild(el('pre', 'out bad', st.stderr));
      d.appendChild(det);
    });
    if ((sc.injections || []).length) {
      d.appendChild(el('div', null, 'chaos'));
      d.appendChild(table(['fault', 'plugin', 'observed', 'summary'], sc.injections.map(function (i) {
        return [i.fault_type, i.plugin, el('span', i.observed ? 'ok' : 'bad', i.observed ? 'yes' : 'NO'), i.error || i.summary];
      })));
    }
    var c = sc.cleanup;
    if (c) {
      var left = ((c.remaining || {}).containers || []).length + ((c.remaining || {}).networks || []).length + ((c.remaining || {}).volumes || []).length;
      d.appendChild(el('div', c.success ? null : 'bad', 'cleanup (' + c.triggered + '): ' + c.containers_removed + ' container(s), ' +
        c.networks_removed + ' network(s) removed in ' + fmtMs(c.duration_ms) + ', ' + left + ' left' + (c.success ? '' : ' [FAILED]') +
        ((c.errors || []).length ? ': ' + c.errors.join('; ') : '')));
    }
    if (ss) { var w = el('div'); w.appendChild(spanLink(ss.id, 'show in the waterfall')); d.appendChild(w); }
    return d;
  }
  var scenarioRows = [];
  var list = el('section', 'scenarios');
  scen.forEach(function (sc) {
    var row = el('div', 'scenario-row');
    row.setAttribute('data-scenario', sc.name);
    row.setAttribute('data-passed', String(sc.passed));
    var h = el('div', 'scenario-head');
    h.appendChild(el('span', sc.passed ? 'ok' : 'bad', sc.passed ? '✓' : '✗'));
    h.appendChild(el('span', 'name', sc.name));
    if (sc.expect_failure) h.appendChild(el('span', 'muted', '[expect failure]'));
    h.appendChild(el('span', 'muted', fmtMs(sc.duration_ms)));
    h.appendChild(el('span', 'reason', sc.reason || ''));
    var detail = null;
    row.toggle = function (open) {
      if (open === undefined) open = !detail;
      if (open && !detail) { detail = scenarioDetail(sc); row.appendChild(detail); }
      else if (!open && detail) { detail.remove(); detail = null; }
    };
    h.addEventListener('click', function () { row.toggle(); });
    row.appendChild(h);
    list.appendChild(row);
    scenarioRows.push(row);
  });
  if (!scen.length) list.appendChild(el('div', 'muted', 'no scenario ran'));
  app.appendChild(list);

  // ---- waterfall -----------------------------------------------------------
  app.appendChild(el('h2', null, 'Trace'));
  var wf = el('section', 'waterfall');
  var bar = el('div', 'wf-toolbar');
  var bAll = el('button', null, 'expand all'), bNone = el('button', null, 'collapse');
  bar.appendChild(bAll); bar.appendChild(bNone);
  var legend = el('span', 'legend');
  [['OK', 'var(--ok)'], ['ERROR', 'var(--err)'], ['UNSET', 'var(--unset)'], ['⚡ fault observed', 'var(--fault)']].forEach(function (l) {
    var s = el('span'), i = el('i'); i.style.background = l[1]; s.appendChild(i); s.appendChild(document.createTextNode(l[0])); legend.appendChild(s);
  });
  services.forEach(function (name) {
    var s = el('span', 'legend-service'), i = el('i'); i.style.background = serviceColour(name);
    s.setAttribute('data-service', name);
    s.appendChild(i); s.appendChild(document.createTextNode('service ' + name)); legend.appendChild(s);
  });
  if (windows.length) {
    var lw = el('span'), li = el('i', 'window-swatch'); lw.appendChild(li); lw.appendChild(document.createTextNode('fault window')); legend.appendChild(lw);
  }
  bar.appendChild(legend);
  bar.appendChild(el('span', 'muted', spans.length + ' spans over ' + fmtNs(total) + '; cleanup and recovery hatched'));
  wf.appendChild(bar);
  var axis = el('div', 'axis'), ticks = el('div', 'ticks');
  axis.appendChild(el('div', 'pad'));
  var step = Math.pow(10, Math.floor(Math.log10(total / 8))), mult = [1, 2, 5, 10];
  for (var mi = 0; mi < mult.length && total / (step * mult[mi]) > 10; mi++);
  step *= mult[Math.min(mi, 3)];
  for (var tt = 0; tt <= total; tt += step) {
    var tk = el('span', 'tick', fmtNs(tt)); tk.style.left = (tt / total * 100) + '%'; ticks.appendChild(tk);
  }
  axis.appendChild(ticks);
  wf.appendChild(axis);
  var rowsBox = el('div', 'rows');
  wf.appendChild(rowsBox);
  var windowBox = null;
  if (windows.length) {
    var outer = el('div', 'rows-with-windows');
    windowBox = el('div', 'fault-windows');
    windows.forEach(function (f) {
      var w = el('div', 'fault-window');
      w.setAttribute('data-fault-span-id', f.id);
      w.style.left = pct(f.start_ns);
      w.style.width = ((f.end_ns - f.start_ns) / total * 100).toFixed(4) + '%';
      w.title = (attr(f, 'chaos.type') || f.name) + ' ' + fmtNs(f.start_ns - t0) + ' → ' + fmtNs(f.end_ns - t0) + ' (span #' + f.id + ')';
      w.appendChild(el('span', 'fault-window-label', attr(f, 'chaos.type') || f.name));
      windowBox.appendChild(w);
    });
    wf.removeChild(rowsBox);
    outer.appendChild(windowBox);
    outer.appendChild(rowsBox);
    wf.appendChild(outer);
  }
  app.appendChild(wf);

  // ---- expectations --------------------------------------------------------
  app.appendChild(el('h2', null, 'Expectations'));
  var byName = new Map();
  spans.forEach(function (s) { if (!byName.has(s.name)) byName.set(s.name, s); });
  // The span an expectation names: "span #N" (the closest one), else the
  // ids it lists, else the span name in its label.
  function namedSpans(e) {
    var m = e.message || '', ids = [], r, re = /span #(\d+)/g;
    while ((r = re.exec(m))) ids.push(+r[1]);
    if (!ids.length && (r = /span ids ([\d, ]+)/.exec(m))) ids = r[1].split(',').map(function (x) { return +x.trim(); });
    ids = ids.filter(function (i) { return byId.has(i); });
    if (!ids.length) {
      var named = byName.get((e.expectation || '').split(' ').slice(1).join(' '));
      if (named) ids = [named.id];
    }
    return ids;
  }
  var ex = el('section', 'expectations');
  exps.forEach(function (e) {
    var row = el('div', 'expectation');
    row.setAttribute('data-passed', String(e.passed));
    row.appendChild(el('span', e.passed ? 'ok' : 'bad', e.passed ? '✓' : '✗'));
    row.appendChild(el('span', 'label', e.expectation));
    var msg = el('span', 'message', e.message);
    row.appendChild(msg);
    namedSpans(e).slice(0, e.passed ? 8 : 3).forEach(function (id) {
      row.appendChild(spanLink(id, '#' + id));
    });
    row.appendChild(el('span', 'muted', e.plugin));
    ex.appendChild(row);
  });
  if (!exps.length) ex.appendChild(el('div', 'muted', 'no expectations'));
  app.appendChild(ex);

  var expanded = new Set(roots.map(function (s) { return s.id; }));
  var shown = new Map();          // id -> how many children are drawn
  var items = new Map();          // id -> its rendered .span-item
  var depthOf = new Map();
  function depth(s) {
    if (depthOf.has(s.id)) return depthOf.get(s.id);
    var d = s.parent != null && byId.has(s.parent) ? depth(byId.get(s.parent)) + 1 : 0;
    depthOf.set(s.id, d);
    return d;
  }
  function detailOf(s) {
    var d = el('div', 'span-detail');
    var rows = [['span', '#' + s.id + ' ' + s.name + ' (' + s.kind + (s.plugin ? ', from ' + s.plugin : '') + (s.app ? ', service ' + s.app.service : '') + ')'],
      ['status', s.status + (s.status_message ? ': ' + s.status_message : '')],
      ['time', fmtNs(s.start_ns - t0) + ' → ' + fmtNs(s.end_ns - t0) + ' (' + fmtNs(s.end_ns - s.start_ns) + ')']];
    if (s.app) {
      rows.push(['service', s.app.service]);
      rows.push(['trace / span id', s.app.trace_id + ' / ' + s.app.span_id + (s.app.parent_span_id ? ' (parent ' + s.app.parent_span_id + ')' : '')]);
      rows.push(['parent by', s.app.parent_by]);
      if (s.app.renamed_from) rows.push(['renamed from', s.app.renamed_from]);
      if (s.app.scope) rows.push(['scope', s.app.scope]);
      if ((s.app.resource || []).length) rows.push(['resource', kv(s.app.resource)]);
    }
    (s.attrs || []).forEach(function (p) { rows.push([p[0], JSON.stringify(p[1])]); });
    (s.events || []).forEach(function (e) { rows.push(['event @' + fmtNs(e.time_ns - t0), e.name + (e.attrs && e.attrs.length ? ' ' + kv(e.attrs) : '')]); });
    d.appendChild(table(['', ''], rows));
    return d;
  }
  function makeItem(s) {
    var item = el('div', 'span-item'), row = el('div', 'span-row');
    item.setAttribute('data-depth', depth(s));
    row.setAttribute('data-span-id', s.id);
    row.setAttribute('data-depth', depth(s));
    row.id = 'span-' + s.id;
    var label = el('div', 'span-label');
    label.style.paddingLeft = (depth(s) * 14) + 'px';
    var n = (kids.get(s.id) || []).length;
    var tog = el('span', 'toggle', n ? (expanded.has(s.id) ? '▾' : '▸') : '');
    if (n) tog.title = n + ' child span(s)';  // clicks: onRowClick
    label.appendChild(tog);
    if (s.app) {
      var chip = el('i', 'service-chip'); chip.style.background = serviceColour(s.app.service); chip.title = 'service ' + s.app.service;
      label.appendChild(chip);
      label.appendChild(el('span', 'service-name', s.app.service));
    }
    // The scenario's or service's name beside the span name, as a reader looks for it.
    var extra = s.name === 'clnrm.scenario' ? attr(s, 'scenario.name') : s.name === 'clnrm.service.start' ? attr(s, 'service.id') : null;
    var nm = extra != null ? s.name + ' ' + extra : s.name;
    label.appendChild(document.createTextNode(nm));
    label.appendChild(el('span', 'dur', fmtNs(s.end_ns - s.start_ns)));
    if (attr(s, 'degraded') === true) label.appendChild(el('span', 'degraded', 'degraded'));
    label.title = nm;
    row.appendChild(label);
    var track = el('div', 'span-track');
    var b = el('div', 'span-bar' + (isCleanup(s) ? ' cleanup' : ''));
    b.setAttribute('data-span-id', s.id);
    b.setAttribute('data-status', s.status);
    if (s.app) {
      b.classList.add('app');
      b.setAttribute('data-service', s.app.service);
      b.style.background = serviceColour(s.app.service);
    }
    b.style.left = pct(s.start_ns);
    b.style.width = ((s.end_ns - s.start_ns) / total * 100).toFixed(4) + '%';
    b.title = (s.app ? '[' + s.app.service + '] ' : '') + s.name + ' ' + s.status + (s.status_message ? ': ' + s.status_message : '') + ', ' + fmtNs(s.end_ns - s.start_ns);
    track.appendChild(b);
    if ((s.events || []).length <= 20) (s.events || []).forEach(function (e) {
      var m = el('div', 'span-event'); m.style.left = pct(e.time_ns); track.appendChild(m);
    });
    (markers.get(s.id) || []).forEach(function (f) {
      var m = el('div', 'fault-marker');
      m.setAttribute('data-fault-span-id', f.span.id);
      m.setAttribute('data-observed-ns', Math.round(f.t));
      m.style.left = pct(f.t);
      var what = f.seen.map(function (p) { return p[0] + '=' + JSON.stringify(p[1]); });
      m.title = f.type + ' observed at ' + fmtNs(f.t - t0) + ' (span #' + f.span.id + ')' + (what.length ? ': ' + what.join(', ') : '');
      var lab = el('span', 'fault-label', f.type + (f.shown.length ? ' ' + f.shown.slice(0, 2).join(' ') : ''));
      if ((f.t - t0) / total > 0.7) lab.classList.add('left');
      m.appendChild(lab);
      track.appendChild(m);
    });
    row.appendChild(track);
    item.appendChild(row);
    items.set(s.id, item);
    return item;
  }
  // s's row and, when expanded, its drawn descendants, in order.
  function build(s, into) {
    into.appendChild(makeItem(s));
    if (!expanded.has(s.id)) return;
    var ch = kids.get(s.id) || [], k = Math.min(ch.length, shown.get(s.id) || PAGE);
    for (var i = 0; i < k; i++) build(ch[i], into);
    if (k < ch.length) {
      var more = el('div', 'more-row'), btn = el('button', null, 'show ' + Math.min(PAGE, ch.length - k) + ' more of ' + (ch.length - k) + ' under #' + s.id);
      btn.addEventListener('click', function () { shown.set(s.id, k + PAGE); redraw(); });
      more.setAttribute('data-depth', depth(s) + 1);
      more.appendChild(btn);
      into.appendChild(more);
    }
  }
  // One listener for every row (a 10k-row page would otherwise make 20k
  // closures): a toggle opens or closes its span's children, a bar its details.
  rowsBox.addEventListener('click', function (ev) {
    var t = ev.target, row = t.closest ? t.closest('.span-row') : null;
    if (!row) return;
    var id = +row.getAttribute('data-span-id');
    if (t.classList.contains('toggle') && (kids.get(id) || []).length) toggle(id);
    else if (t.classList.contains('span-bar')) {
      var item = row.parentNode, open = item.querySelector('.span-detail');
      if (open) open.remove(); else item.appendChild(detailOf(byId.get(id)));
    }
  });
  function redraw() {
    items.clear();
    var frag = document.createDocumentFragment();
    roots.forEach(function (s) { build(s, frag); });
    rowsBox.textContent = '';
    rowsBox.appendChild(frag);
  }
  function toggle(id) {
    if (expanded.has(id)) expanded.delete(id); else expanded.add(id);
    var s = byId.get(id), old = items.get(id);
    if (!old) return redraw();
    // Replace only this subtree: drop its drawn descendants, insert anew.
    var frag = document.createDocumentFragment();
    build(s, frag);
    var next = old.nextSibling;
    while (next && +next.getAttribute('data-depth') > depth(s)) {
      var n = next.nextSibling;
      if (next.firstChild && next.firstChild.hasAttribute('data-span-id')) items.delete(+next.firstChild.getAttribute('data-span-id'));
      next.remove(); next = n;
    }
    old.replaceWith(frag);
  }
  function spanLink(id, text) {
    var a = el('a', 'span-link', text);
    a.setAttribute('href', '#span-' + id);
    a.setAttribute('data-span-id', id);
    a.addEventListener('click', function (ev) { ev.preventDefault(); reveal(id); history.replaceState(null, '', '#span-' + id); });
    return a;
  }
  function reveal(id) {
    var s = byId.get(id);
    if (!s) return;
    for (var p = s; p.parent != null && byId.has(p.parent); p = byId.get(p.parent)) {
      var parent = byId.get(p.parent), idx = kids.get(parent.id).indexOf(p);
      expanded.add(parent.id);
      if (idx >= (shown.get(parent.id) || PAGE)) shown.set(parent.id, idx + 1);
    }
    redraw();
    var item = items.get(id);
    Array.prototype.forEach.call(rowsBox.querySelectorAll('.highlight'), function (e) { e.classList.remove('highlight'); });
    item.firstChild.classList.add('highlight');
    if (item.scrollIntoView) item.scrollIntoView({ block: 'center' });
  }
  function expandAll() {
    kids.forEach(function (list, id) { expanded.add(id); shown.set(id, list.length); });
    redraw();
  }
  bAll.addEventListener('click', expandAll);
  bNone.addEventListener('click', function () {
    expanded = new Set(roots.map(function (s) { return s.id; })); shown.clear(); redraw();
  });

  // Draws what the location's hash asks for; false when it asks for nothing.
  function fromHash() {
    var h = location.hash.slice(1), m;
    if (h === 'expand=all') expandAll();
    else if ((m = /^span-(\d+)$/.exec(h)) && byId.has(+m[1])) reveal(+m[1]);
    else return false;
    return true;
  }
  if (!fromHash()) redraw();
  window.addEventListener('hashchange', fromHash);
  // How long the page took to become usable, from navigation start (ms).
  document.documentElement.setAttribute('data-render-ms', performance.now().toFixed(1));
  document.documentElement.setAttribute('data-ready', 'true');
})();
