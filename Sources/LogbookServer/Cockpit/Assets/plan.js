// Logbook cockpit: one plan at /plans/{plan}, live.
//
// Load: GET …/tasks (else the plan and its status) → header and task table in one DOM pass →
// the latest page of events and the stream → the graph, the timeline, the plan's goal and the
// status (timeline details, verdict) → the verify report, and the Validation Report if frozen.
// Live: the event stream from head + 1; each event is folded into the page's model of the tasks
// (the same rules as the journal's reducer) and the row, graph node, header and feed change in
// place. A quiet re-read of the status now and then (and after a reconnect) keeps the model
// equal to the server's.
"use strict";

(() => {
  const { h, api, clear } = LB;
  const planId = decodeURIComponent(location.pathname.replace(/^\/plans\//, "").replace(/\/+$/, ""));
  const enc = encodeURIComponent(planId);
  const FEED_PAGE = 200;
  const FEED_MAX = 5000;
  const QUIET_S = 15 * 60;

  const $ = (id) => document.getElementById(id);
  const S = {
    tasks: new Map(), list: [], lifecycle: null, verdict: null, frozenSeq: null,
    modelSeq: -1, lastTs: null, personas: new Set(), roles: {},
    events: [], oldest: null, filters: readFilters(), stream: null, graph: null,
    verify: null, selected: null, hasTasksEndpoint: false, skew: 0,
  };
  const rowRefs = new Map();

  // ---- the model --------------------------------------------------------------------------
  function newTask(pt) {
    return {
      id: pt.task_id, title: pt.title || "", deps: Array.isArray(pt.dependencies) ? pt.dependencies.slice() : [],
      criticality: pt.criticality || "", assigned: pt.assigned_agent_persona || "", maxRetries: Number(pt.max_retries) || 0,
      status: "PENDING", percent: 0, reported: 0, owner: null, attempts: 0, lastSeq: null, lastTs: null, lastType: null,
      lastPersona: null, tests: {}, blocker: null, blockedFrom: null, firstStartedTs: null, completedTs: null,
      retries: [], failures: [], blocks: [], lease: null, serverStale: null,
    };
  }

  function mergeStatus(t, ts) {
    t.status = ts.status || "PENDING";
    t.reported = ts.reported_percent ?? ts.percent_complete ?? 0;
    t.percent = effective(t);
    const log = ts.execution_log || {};
    t.attempts = ts.retry_attempts_used ?? (log.retry_attempts_log || []).length;
    t.lastSeq = ts.last_event_seq ?? null;
    if (ts.last_event_ts !== undefined) t.lastTs = ts.last_event_ts;
    if (ts.last_event_type !== undefined) t.lastType = ts.last_event_type;
    t.lastPersona = ts.last_updated_by_persona_id || null;
    if (ts.owner !== undefined) t.owner = ts.owner;
    else if (t.status !== "PENDING" && !t.owner) {
      // No owner member (an older server): the persona of the last event, unless a supervisor wrote it.
      t.owner = t.lastPersona && S.roles[t.lastPersona] !== "supervisor" ? t.lastPersona : (t.assigned || null);
    }
    const suites = ts.test_results_by_suite;
    if (suites && typeof suites === "object") t.tests = JSON.parse(JSON.stringify(suites));
    else if (ts.latest_test_status) t.tests = { [ts.latest_test_status.suite || "tests"]: ts.latest_test_status };
    else t.tests = {};
    const b = ts.blocker;
    t.blocker = b ? { reason: b.reason ?? null, persona: b.persona_id ?? null, since: b.since_ts ?? null, seq: b.since_seq ?? null } : null;
    t.blockedFrom = ts.blocked_from || null;
    t.firstStartedTs = ts.first_started_ts ?? null;
    t.completedTs = ts.completed_ts ?? null;
    t.retries = (log.retry_attempts_log || []).map((r) => ({ seq: r.seq, ts: r.ts, attempt: r.attempt, reason: r.reason }));
    t.failures = (log.failure_history || (log.failure_details ? [log.failure_details] : [])).map((f) => ({ seq: f.seq, ts: f.ts, reason: f.reason }));
    t.lease = ts.lease ? { seconds: ts.lease.seconds, renewedTs: ts.lease.renewed_ts || null, expiresAt: ts.lease.expires_ts || null } : null;
    if (t.blocker) addBlock(t, { seq: t.blocker.seq, from: t.blocker.since, to: null, reason: t.blocker.reason });
  }

  // A task from GET /v1/plans/{plan}/tasks (the table's first render needs nothing else).
  function taskFromView(v) {
    const t = newTask({
      task_id: v.task_id, title: v.title, criticality: v.criticality, assigned_agent_persona: v.assigned_agent_persona ?? v.assigned_persona,
      max_retries: v.max_retries, dependencies: (v.dependencies || []).map((d) => (typeof d === "string" ? d : d && d.task_id)).filter(Boolean),
    });
    mergeTaskView(t, v);
    return t;
  }

  function mergeTaskView(t, v) {
    if (v.status) t.status = v.status;
    const pct = v.percent_complete ?? v.percent;
    if (pct !== undefined && pct !== null) t.reported = Number(pct);
    t.percent = effective(t);
    if (v.attempts !== undefined) t.attempts = Number(v.attempts) || 0;
    if (v.owner !== undefined) t.owner = v.owner;
    const le = v.last_event || (v.last_event_seq !== undefined ? { seq: v.last_event_seq, ts: v.last_event_ts, type: v.last_event_type, persona: v.last_event_persona } : null);
    if (le) { t.lastSeq = le.seq ?? null; t.lastTs = le.ts ?? null; t.lastType = le.type ?? null; t.lastPersona = le.persona ?? null; }
    if (v.tests && typeof v.tests === "object" && !Object.keys(t.tests).length) {
      t.tests = (v.tests.passed || v.tests.failed) ? { tests: { passed: Number(v.tests.passed) || 0, failed: Number(v.tests.failed) || 0, skipped: 0, seq: 0 } } : {};
    }
    if (v.lease) t.lease = { seconds: v.lease.seconds, renewedTs: v.lease.renewed_ts || null, expiresAt: v.lease.expires_ts || v.lease.expires_at || null };
    else if (v.lease === null) t.lease = null;
    if (typeof v.stale === "boolean") t.serverStale = v.stale;
    const b = v.blocker;
    if (b) {
      t.blocker = { reason: b.reason ?? null, persona: b.persona_id ?? b.persona ?? null, since: b.since_ts ?? b.since ?? null, seq: b.since_seq ?? b.seq ?? null };
      addBlock(t, { seq: t.blocker.seq, from: t.blocker.since, to: null, reason: t.blocker.reason });
    } else if (b === null) t.blocker = null;
  }

  function addBlock(t, b) {
    if (b.seq !== null && b.seq !== undefined && t.blocks.some((x) => x.seq === b.seq)) {
      const x = t.blocks.find((y) => y.seq === b.seq);
      if (b.to && !x.to) x.to = b.to;
      return;
    }
    t.blocks.push(b);
  }

  function effective(t) { return LB.COMPLETE.has(t.status) ? 100 : Math.min(Number(t.reported) || 0, 99); }

  const ALLOWED = {
    started: ["PENDING"], progress: ["IN_PROGRESS"], test_result: ["IN_PROGRESS"], failed: ["IN_PROGRESS"], done: ["IN_PROGRESS"],
    blocked: ["PENDING", "IN_PROGRESS"], unblocked: ["BLOCKED"], retried: ["FAILED"], reopened: ["DONE"],
    waived: ["PENDING", "IN_PROGRESS", "BLOCKED", "FAILED", "DONE"], heartbeat: ["IN_PROGRESS", "BLOCKED"],
    requeued: ["IN_PROGRESS", "BLOCKED", "FAILED"],
  };
  const NEXT = { started: "IN_PROGRESS", retried: "IN_PROGRESS", reopened: "IN_PROGRESS", blocked: "BLOCKED", failed: "FAILED", done: "DONE", waived: "WAIVED", requeued: "PENDING" };

  // Folds one event into the model (the journal's reducer, for what the page shows).
  // Returns {task: id|null, plan: bool, completeChanged: bool}.
  function applyEvent(ev) {
    const st = ev.stmt || {};
    const d = st.data || {};
    const out = { task: null, plan: false, completeChanged: false };
    S.modelSeq = ev.seq;
    S.lastTs = ev.ts;
    switch (st.type) {
      case "validation_started": S.lifecycle = "VALIDATING"; out.plan = true; return out;
      case "validated": S.verdict = d.verdict || null; out.plan = true; return out;
      case "frozen": S.lifecycle = "FROZEN"; S.frozenSeq = ev.seq; out.plan = true; return out;
      case "archived": S.lifecycle = "ARCHIVED"; out.plan = true; return out;
      case "created": case "migrated": case "key_changed": return out;
      default: break;
    }
    const t = st.task ? S.tasks.get(st.task) : null;
    if (!t) return out;
    if (S.lifecycle === "VALIDATING" && S.verdict) { S.verdict = null; out.plan = true; }
    const wasComplete = LB.COMPLETE.has(t.status);
    t.lastSeq = ev.seq; t.lastTs = ev.ts; t.lastType = st.type; t.lastPersona = st.persona || null;
    if (t.owner && t.owner === st.persona && t.lease) { t.lease.renewedTs = ev.ts; t.lease.expiresAt = null; }
    t.serverStale = null;
    const before = t.status;
    if (ALLOWED[st.type] && ALLOWED[st.type].includes(before)) {
      if (st.type === "unblocked") t.status = t.blockedFrom || "PENDING";
      else if (NEXT[st.type]) t.status = NEXT[st.type];
    }
    switch (st.type) {
      case "started":
        if (!t.firstStartedTs) t.firstStartedTs = ev.ts;
        if (!t.owner) t.owner = st.persona;
        t.lease = d.lease_seconds ? { seconds: Number(d.lease_seconds), renewedTs: ev.ts, expiresAt: null } : null;
        break;
      case "progress": if (d.percent !== undefined) t.reported = Number(d.percent); break;
      case "test_result":
        if (d.suite !== undefined) t.tests[d.suite] = { passed: Number(d.passed) || 0, failed: Number(d.failed) || 0, skipped: Number(d.skipped) || 0, seq: ev.seq };
        break;
      case "blocked":
        t.blockedFrom = before;
        t.blocker = { reason: d.reason ?? null, persona: st.persona, since: ev.ts, seq: ev.seq };
        addBlock(t, { seq: ev.seq, from: ev.ts, to: null, reason: d.reason ?? null });
        break;
      case "unblocked": closeBlock(t, ev.ts); break;
      case "failed": t.failures.push({ seq: ev.seq, ts: ev.ts, reason: d.reason ?? null }); break;
      case "retried":
        t.attempts += 1; t.reported = 0;
        t.retries.push({ seq: ev.seq, ts: ev.ts, attempt: t.attempts, reason: d.reason ?? null });
        break;
      case "done": t.reported = 100; t.completedTs = ev.ts; break;
      case "reopened": t.completedTs = null; if (t.lease) t.lease.renewedTs = ev.ts; break;
      case "waived": t.completedTs = ev.ts; closeBlock(t, ev.ts); break;
      case "requeued": t.owner = null; t.lease = null; t.reported = 0; closeBlock(t, ev.ts); break;
      default: break;
    }
    t.percent = effective(t);
    out.task = t.id;
    out.completeChanged = wasComplete !== LB.COMPLETE.has(t.status);
    return out;
  }

  function closeBlock(t, ts) {
    for (const b of t.blocks) if (!b.to) b.to = ts;
    t.blocker = null;
    t.blockedFrom = null;
  }

  // Block intervals seen in a page of events (the status keeps only the open one).
  function harvestBlocks(evs) {
    for (const ev of evs) {
      const st = ev.stmt || {};
      const t = st.task ? S.tasks.get(st.task) : null;
      if (!t) continue;
      if (st.type === "blocked") addBlock(t, { seq: ev.seq, from: ev.ts, to: null, reason: (st.data || {}).reason ?? null });
      else if (st.type === "unblocked" || st.type === "waived" || st.type === "requeued") {
        const open = t.blocks.filter((b) => !b.to && (b.seq ?? -1) < ev.seq).pop();
        if (open) open.to = ev.ts;
      }
    }
  }

  function now() { return Date.now() + S.skew; }

  function leaseExpiry(t) {
    if (!t.lease) return null;
    if (t.lease.renewedTs && t.lease.seconds) return LB.parseTS(t.lease.renewedTs) + t.lease.seconds * 1000;
    return LB.parseTS(t.lease.expiresAt);
  }

  function isStale(t, at) {
    if (t.status !== "IN_PROGRESS" && t.status !== "BLOCKED") return false;
    const exp = leaseExpiry(t);
    if (exp !== null) return at >= exp;
    return t.serverStale === true;
  }

  function isQuiet(t, at) {
    if (t.status !== "IN_PROGRESS" || t.lease) return false;
    const last = LB.parseTS(t.lastTs);
    return last !== null && (at - last) / 1000 > QUIET_S;
  }

  // ---- header -----------------------------------------------------------------------------
  let headerQueued = false;
  function queueHeader() {
    if (headerQueued) return;
    headerQueued = true;
    requestAnimationFrame(() => { headerQueued = false; renderHeader(); });
  }

  function totals() {
    const at = now();
    const counts = {};
    let sum = 0, passed = 0, failed = 0, retries = 0, stale = 0;
    for (const t of S.list) {
      counts[t.status] = (counts[t.status] || 0) + 1;
      sum += t.percent;
      retries += t.attempts;
      for (const k in t.tests) { passed += Number(t.tests[k].passed) || 0; failed += Number(t.tests[k].failed) || 0; }
      if (isStale(t, at)) stale++;
    }
    const completion = S.list.length ? Math.round((sum / S.list.length) * 10) / 10 : 0;
    return { counts, completion, passed, failed, retries, stale, blockers: counts.BLOCKED || 0 };
  }

  function renderHeader() {
    const T = totals();
    const lc = $("plan-lifecycle");
    clear(lc);
    lc.appendChild(LB.lifecycleBadge(S.lifecycle));
    document.body.dataset.lifecycle = S.lifecycle || "";
    const vd = $("plan-verdict");
    clear(vd);
    if (S.verdict) vd.appendChild(LB.badge("verdict " + S.verdict, S.verdict === "PASS" ? "status-done" : S.verdict === "FAIL" ? "status-failed" : "status-blocked"));
    LB.setBar($("plan-bar"), T.completion);
    $("plan-bar").classList.toggle("complete", T.completion >= 100);
    $("plan-completion").textContent = LB.pct(T.completion);
    const c = $("plan-counts");
    clear(c);
    for (const st of LB.STATUSES) {
      const n = T.counts[st] || 0;
      if (!n) continue;
      c.appendChild(h("span", { class: "chip " + LB.statusClass(st), data: { status: st, count: n }, title: st }, `${n} ${st.toLowerCase().replace("_", " ")}`));
    }
    const tests = $("plan-tests");
    clear(tests);
    tests.append(h("span", { class: "ok-text", data: { passed: T.passed } }, `${T.passed} passed`), " · ",
      h("span", { class: T.failed ? "bad-text" : "", data: { failed: T.failed } }, `${T.failed} failed`));
    $("plan-retries").textContent = String(T.retries);
    $("plan-blockers").textContent = String(T.blockers);
    $("plan-blockers").classList.toggle("warn", T.blockers > 0);
    $("plan-stale").textContent = String(T.stale);
    $("plan-stale").classList.toggle("warn", T.stale > 0);
    $("plan-head").textContent = S.modelSeq >= 0 ? String(S.modelSeq) : "–";
    $("plan-last").textContent = S.lastTs ? LB.ageOf(S.lastTs, now()) : "–";
    $("plan-last").title = S.lastTs ? LB.localTime(S.lastTs) : "";
    renderVerify();
    const cp = S.graph ? S.graph.critical() : null;
    if (cp) renderCritical(cp);
  }

  // ---- the task table ---------------------------------------------------------------------
  // One DOM pass: a template row cloned per task (much cheaper than building each cell), the
  // text put in with textContent, the rows appended through one DocumentFragment.
  let rowTemplate = null;
  function template() {
    if (rowTemplate) return rowTemplate;
    rowTemplate = h("tr", null,
      h("td", { class: "c-id mono" }),
      h("td", { class: "c-title" }, h("span", { class: "title-text" })),
      h("td", { class: "c-status" }, h("span", { class: "badge" })),
      h("td", { class: "c-progress" }, h("div", { class: "barline" }, h("div", { class: "bar" }, h("div", { class: "fill" })), h("span", { class: "pct" }))),
      h("td", { class: "c-owner" }), h("td", { class: "c-age" }), h("td", { class: "num c-attempts" }),
      h("td", { class: "c-tests" }), h("td", { class: "c-blocker" }), h("td", { class: "c-stale" }));
    return rowTemplate;
  }

  function buildTable() {
    const tbody = $("tasks").tBodies[0];
    const frag = document.createDocumentFragment();
    const tpl = template();
    const at = now();
    for (const t of S.list) {
      const tr = tpl.cloneNode(true);
      const c = tr.children;
      tr.dataset.task = t.id;
      c[0].textContent = t.id;
      c[1].firstChild.textContent = t.title;
      c[1].title = t.title;
      if (t.criticality && /^(HIGH|CRITICAL)$/i.test(t.criticality)) c[1].appendChild(h("span", { class: "tag crit", title: "criticality" }, t.criticality));
      const barline = c[3].firstChild;
      const r = {
        tr, id: c[0], title: c[1], statusBadge: c[2].firstChild, bar: barline.firstChild, pct: barline.lastChild,
        owner: c[4], age: c[5], attempts: c[6], tests: c[7], blocker: c[8], stale: c[9], sig: "",
      };
      rowRefs.set(t.id, r);
      paintRow(t, at);
      frag.appendChild(tr);
    }
    clear(tbody);
    tbody.appendChild(frag);
    $("tasks-meta").textContent = `${S.list.length} task${S.list.length === 1 ? "" : "s"}`;
  }

  function paintRow(t, at) {
    const r = rowRefs.get(t.id);
    if (!r) return;
    const stale = isStale(t, at), quiet = !stale && isQuiet(t, at);
    const sig = [t.status, t.percent, t.owner, t.lastSeq, t.attempts, JSON.stringify(t.tests), t.blocker && t.blocker.reason, stale, quiet, t.maxRetries].join("\u0001");
    if (sig !== r.sig) {
      r.sig = sig;
      r.tr.dataset.status = t.status;
      r.tr.dataset.stale = String(stale);
      r.statusBadge.textContent = t.status;
      r.statusBadge.className = "badge " + LB.statusClass(t.status);
      LB.setBar(r.bar, t.percent);
      r.bar.className = "bar " + LB.statusClass(t.status);
      r.pct.textContent = t.percent + " %";
      r.owner.textContent = t.owner || "–";
      r.owner.title = t.assigned ? "assigned to " + t.assigned : "";
      r.attempts.textContent = `${t.attempts} / ${t.maxRetries}`;
      r.attempts.title = `${t.attempts} retr${t.attempts === 1 ? "y" : "ies"} used of ${t.maxRetries} allowed`;
      r.attempts.classList.toggle("warn", t.attempts > 0 && t.attempts >= t.maxRetries);
      const suites = Object.keys(t.tests);
      if (suites.length) {
        let p = 0, f = 0;
        for (const k of suites) { p += Number(t.tests[k].passed) || 0; f += Number(t.tests[k].failed) || 0; }
        clear(r.tests);
        r.tests.append(h("span", { class: "ok-text" }, `${p}✓`), " ", h("span", { class: f ? "bad-text" : "muted" }, `${f}✗`));
        r.tests.title = suites.map((k) => `${k}: ${t.tests[k].passed} passed, ${t.tests[k].failed} failed${t.tests[k].skipped ? ", " + t.tests[k].skipped + " skipped" : ""}`).join("\n");
        r.tests.dataset.failed = String(f);
      } else if (r.tests.textContent !== "–") {
        r.tests.textContent = "–";
        r.tests.removeAttribute("title");
      }
      r.blocker.textContent = t.blocker ? (t.blocker.reason || "blocked") : "";
      r.blocker.title = t.blocker ? `${t.blocker.reason || "blocked"}\n— blocked by ${t.blocker.persona || "?"}` + (t.blocker.seq !== null ? ` at seq ${t.blocker.seq}` : "") : "";
      if (r.stale.firstChild) clear(r.stale);
      if (stale) r.stale.appendChild(h("span", { class: "badge stale", title: "the owner's lease ran out without an event" }, "stale"));
      else if (quiet) r.stale.appendChild(h("span", { class: "badge quiet", title: "in progress, no event for over 15 min (no lease recorded)" }, "quiet"));
    }
    paintAge(t, r, at);
  }

  function paintAge(t, r, at) {
    const text = t.lastTs ? LB.ageOf(t.lastTs, at) : t.lastSeq !== null && t.lastSeq !== undefined ? `seq ${t.lastSeq}` : "–";
    if (r.age.textContent !== text) r.age.textContent = text;
    const tip = t.lastSeq !== null && t.lastSeq !== undefined ? `seq ${t.lastSeq}${t.lastType ? " " + t.lastType : ""}${t.lastPersona ? " by " + t.lastPersona : ""}${t.lastTs ? " at " + LB.localTime(t.lastTs) : ""}` : "";
    if (r.age.title !== tip) r.age.title = tip;
  }

  function tick() {
    const at = now();
    for (const t of S.list) paintRow(t, at);
    if (S.lastTs) $("plan-last").textContent = LB.ageOf(S.lastTs, at);
    const st = totals().stale;
    if ($("plan-stale").textContent !== String(st)) queueHeader();
  }

  function searchTasks() {
    const q = $("task-search").value.trim().toLowerCase();
    let shown = 0;
    for (const t of S.list) {
      const r = rowRefs.get(t.id);
      const hit = !q || t.id.toLowerCase().includes(q) || t.title.toLowerCase().includes(q) || (t.owner || "").toLowerCase().includes(q) || t.status.toLowerCase().includes(q);
      r.tr.hidden = !hit;
      if (hit) shown++;
    }
    $("tasks-meta").textContent = q ? `${shown} of ${S.list.length} tasks` : `${S.list.length} task${S.list.length === 1 ? "" : "s"}`;
  }

  // ---- graph and critical path ------------------------------------------------------------
  function buildGraph() {
    const box = $("graph");
    clear(box);
    if (!S.list.length) return;
    S.graph = LBGraph.create(box, S.list, (id) => selectTask(id, true));
    const sz = S.graph.size();
    $("graph-meta").textContent = `${S.list.length} tasks in ${sz.columns} layer${sz.columns === 1 ? "" : "s"}`;
    markCritical();
    if (S.selected) S.graph.select(S.selected);
  }

  function markCritical() {
    if (!S.graph) return;
    const cp = S.graph.recompute();
    const on = new Set(cp.ids);
    for (const t of S.list) {
      const r = rowRefs.get(t.id);
      if (r) r.tr.classList.toggle("on-critical", on.has(t.id));
    }
    renderCritical(cp);
  }

  function renderCritical(cp) {
    const el = $("critical-path");
    const key = cp.ids.join(">") + "|" + cp.open;
    if (el.dataset.key === key) return;
    el.dataset.key = key;
    clear(el);
    if (!cp.ids.length) return;
    el.appendChild(h("span", { class: "cp-label" }, cp.open ? `Critical path (${cp.ids.length} open task${cp.ids.length === 1 ? "" : "s"}): ` : `Longest chain (${cp.ids.length} tasks, all complete): `));
    const shown = cp.ids.length > 24 ? cp.ids.slice(0, 10).concat(["…"], cp.ids.slice(-10)) : cp.ids;
    shown.forEach((id, k) => {
      if (k) el.appendChild(h("span", { class: "cp-arrow" }, " → "));
      if (id === "…") el.appendChild(h("span", { class: "muted" }, "…"));
      else el.appendChild(h("button", { type: "button", class: "cp-task mono", data: { task: id }, on: { click: () => selectTask(id, true) } }, id));
    });
    el.dataset.path = cp.ids.join(" ");
  }

  function selectTask(id, setFilter) {
    if (S.selected) { const r = rowRefs.get(S.selected); if (r) r.tr.classList.remove("selected"); }
    S.selected = id;
    const r = rowRefs.get(id);
    if (r) r.tr.classList.add("selected");
    if (S.graph) S.graph.select(id);
    if (setFilter) setFilters({ task: id });
  }

  // ---- the event feed ---------------------------------------------------------------------
  function readFilters() {
    const q = new URLSearchParams(location.search);
    return { task: q.get("task") || "", persona: q.get("persona") || "", type: q.get("type") || "" };
  }

  function setFilters(patch) {
    Object.assign(S.filters, patch);
    const url = new URL(location.href);
    for (const k of ["task", "persona", "type"]) {
      if (S.filters[k]) url.searchParams.set(k, S.filters[k]);
      else url.searchParams.delete(k);
    }
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    syncSelects();
    renderFeed();
  }

  function matches(ev) {
    const st = ev.stmt || {};
    const f = S.filters;
    return (!f.task || st.task === f.task) && (!f.persona || st.persona === f.persona) && (!f.type || st.type === f.type);
  }

  function feedItem(ev, fresh) {
    const st = ev.stmt || {};
    const late = st.seen && typeof st.seen.seq === "number" ? ev.seq - 1 - st.seen.seq : 0;
    const li = h("li", { class: "ev ev-" + (st.type || "unknown") + (fresh ? " fresh" : ""), data: { seq: ev.seq, type: st.type, task: st.task, persona: st.persona } },
      h("span", { class: "ev-seq mono", title: `hash ${ev.hash || ""}` }, "#" + ev.seq),
      h("span", { class: "ev-time mono", title: LB.localTime(ev.ts) }, LB.clock(ev.ts)),
      h("span", { class: "ev-type t-" + (st.type || "unknown") }, st.type || "?"),
      st.task ? h("button", { type: "button", class: "ev-task mono", data: { filterTask: st.task }, title: "show only " + st.task }, st.task) : h("span", { class: "ev-task plan-level" }, "plan"),
      h("button", { type: "button", class: "ev-persona", data: { filterPersona: st.persona || "" }, title: "show only " + (st.persona || "") }, st.persona || "?"),
      h("span", { class: "ev-msg" }, LB.eventText(ev)),
      late > 0 ? h("span", { class: "ev-late", title: `signed having seen seq ${st.seen.seq}` }, `${late} late`) : null);
    return li;
  }

  function renderFeed() {
    const ol = $("feed");
    const frag = document.createDocumentFragment();
    let n = 0;
    for (let i = S.events.length - 1; i >= 0; i--) {
      const ev = S.events[i];
      if (!matches(ev)) continue;
      frag.appendChild(feedItem(ev, false));
      n++;
    }
    clear(ol);
    ol.appendChild(frag);
    if (!n) ol.appendChild(h("li", { class: "ev-empty muted" }, S.events.length ? "No loaded event matches the filters — load older events below." : "No events yet."));
    feedMeta();
  }

  function feedMeta() {
    const f = S.filters;
    const shown = $("feed").querySelectorAll("li[data-seq]").length;
    const range = S.events.length ? `seq ${S.events[0].seq}–${S.events[S.events.length - 1].seq}` : "";
    $("feed-meta").textContent = (f.task || f.persona || f.type ? `${shown} matching of ${S.events.length} loaded` : `${S.events.length} loaded`) + (range ? ` · ${range}` : "");
    const older = $("feed-older");
    older.disabled = S.oldest === null || S.oldest <= 0;
    $("feed-older-meta").textContent = S.oldest > 0 ? `${S.oldest} older event${S.oldest === 1 ? "" : "s"}` : S.oldest === 0 ? "from the first event" : "";
  }

  function pushLive(ev) {
    S.events.push(ev);
    if (S.oldest === null) S.oldest = ev.seq;
    noteEvent(ev);
    const ol = $("feed");
    if (matches(ev)) {
      const empty = ol.querySelector(".ev-empty");
      if (empty) empty.remove();
      ol.insertBefore(feedItem(ev, true), ol.firstChild);
    }
    if (S.events.length > FEED_MAX) {
      const drop = S.events.length - FEED_MAX;
      const gone = S.events.splice(0, drop);
      S.oldest = S.events[0].seq;
      for (const g of gone) { const li = ol.querySelector(`li[data-seq="${g.seq}"]`); if (li) li.remove(); }
    }
    feedMeta();
  }

  function noteEvent(ev) {
    const p = ev.stmt && ev.stmt.persona;
    if (p && !S.personas.has(p)) { S.personas.add(p); addOption($("filter-persona"), p, p); }
  }

  async function loadOlder() {
    if (S.oldest === null || S.oldest <= 0) return;
    const btn = $("feed-older");
    btn.disabled = true;
    const filtered = S.filters.task || S.filters.persona || S.filters.type;
    try {
      let got = 0, pages = 0;
      do {
        const n = Math.min(filtered ? 1000 : FEED_PAGE, S.oldest);
        const from = S.oldest - n;
        const evs = await api(`/v1/plans/${enc}/events?from=${from}&limit=${n}`);
        if (!Array.isArray(evs) || !evs.length) break;
        const page = evs.filter((e) => e.seq < S.oldest);
        S.events = page.concat(S.events);
        S.oldest = from;
        harvestBlocks(page);
        page.forEach(noteEvent);
        got += page.filter(matches).length;
        const ol = $("feed");
        const empty = ol.querySelector(".ev-empty");
        if (empty && got) empty.remove();
        const frag = document.createDocumentFragment();
        for (let i = page.length - 1; i >= 0; i--) if (matches(page[i])) frag.appendChild(feedItem(page[i], false));
        ol.appendChild(frag);
        pages++;
      } while (filtered && got < 20 && S.oldest > 0 && pages < 5);
    } catch (e) {
      LB.showError("Loading older events", e);
    }
    feedMeta();
    queueTimeline();
  }

  function addOption(sel, value, label) {
    if ([...sel.options].some((o) => o.value === value)) return;
    sel.appendChild(h("option", { value }, label));
  }

  function fillSelects() {
    const ft = $("filter-task");
    const frag = document.createDocumentFragment();
    for (const t of S.list) {
      const label = t.title ? `${t.id} — ${t.title.length > 40 ? t.title.slice(0, 39) + "…" : t.title}` : t.id;
      frag.appendChild(h("option", { value: t.id }, label));
    }
    ft.appendChild(frag);
    for (const p of [...S.personas].sort()) addOption($("filter-persona"), p, p);
    for (const ty of LB.EVENT_TYPES) addOption($("filter-type"), ty, ty);
    syncSelects();
  }

  function syncSelects() {
    for (const k of ["task", "persona", "type"]) {
      const sel = $("filter-" + k);
      const v = S.filters[k];
      if (v) addOption(sel, v, v);
      sel.value = v;
    }
    $("filter-clear").disabled = !(S.filters.task || S.filters.persona || S.filters.type);
  }

  // ---- timeline ---------------------------------------------------------------------------
  let tlTimer = null, tlLast = 0;
  function queueTimeline() {
    if (tlTimer) return;
    const gap = S.list.length > 300 ? 5000 : 1000;
    const wait = Math.max(0, tlLast + gap - Date.now());
    tlTimer = setTimeout(() => { tlTimer = null; renderTimeline(); }, wait);
  }

  function renderTimeline() {
    tlLast = Date.now();
    const live = S.lifecycle === "ACTIVE" || S.lifecycle === "VALIDATING";
    LBTimeline.render($("timeline"), $("timeline-meta"), S.list, { now: now(), live });
  }

  // ---- verify -----------------------------------------------------------------------------
  // Verify reads the whole journal (about a minute for 100,000 events on a debug build), so the
  // page asks once when it opens and on "Verify now"; a reload within 2 minutes in the same tab
  // shows the last answer instead of asking again.
  const VERIFY_KEY = "logbook.verify." + planId;
  const VERIFY_REUSE_MS = 120000;
  async function runVerify(auto) {
    const btn = $("verify-btn");
    if (auto === true) {
      let cached = null;
      try { cached = JSON.parse(sessionStorage.getItem(VERIFY_KEY) || "null"); } catch (_) { cached = null; }
      if (cached && cached.report && Date.now() - cached.at < VERIFY_REUSE_MS) {
        S.verify = { state: cached.report.ok ? "ok" : "failed", report: cached.report, at: cached.at };
        renderVerify();
        return;
      }
    }
    btn.disabled = true;
    S.verify = { state: "pending" };
    renderVerify();
    try {
      const r = await api(`/v1/plans/${enc}/verify`);
      S.verify = { state: r.ok ? "ok" : "failed", report: r, at: Date.now() };
      try { sessionStorage.setItem(VERIFY_KEY, JSON.stringify({ at: S.verify.at, report: r })); } catch (_) { /* no storage */ }
    } catch (e) {
      S.verify = { state: "error", error: e };
    }
    btn.disabled = false;
    renderVerify();
  }

  function renderVerify() {
    const el = $("verify");
    const v = S.verify || { state: "pending" };
    el.dataset.state = v.state;
    el.className = "verify verify-" + v.state;
    if (v.state === "pending") { el.textContent = "verifying…"; el.title = ""; return; }
    if (v.state === "error") { el.textContent = "verify unavailable"; el.title = v.error.message; return; }
    const r = v.report;
    el.dataset.seq = String(r.last_seq);
    if (v.state === "ok") {
      const behind = S.modelSeq > r.last_seq;
      el.textContent = `✓ verified to seq ${r.last_seq}` + (behind ? ` (head ${S.modelSeq})` : "");
      el.title = `${r.events} events, ${r.unsigned_events || 0} unsigned, head ${r.head_hash || ""}` +
        (v.at ? `\nchecked ${LB.ageOf(new Date(v.at).toISOString())}` : "") +
        ((r.warnings || []).length ? "\nwarnings: " + r.warnings.join("; ") : "") + (behind ? `\nevents after seq ${r.last_seq} are not checked yet: Verify now` : "");
      el.classList.toggle("behind", behind);
    } else {
      const f = r.failure || {};
      el.textContent = `✗ verify failed` + (f.seq !== null && f.seq !== undefined ? ` at seq ${f.seq}` : "") + (f.kind ? ` (${f.kind})` : "");
      el.title = f.message || "";
    }
  }

  // ---- live -------------------------------------------------------------------------------
  let dirty = new Set(), paintQueued = false, completeChanged = false;
  function onEvent(ev) {
    pushLive(ev);
    if (ev.seq <= S.modelSeq) return;      // already in the status the page loaded
    const out = applyEvent(ev);
    if (out.task) dirty.add(out.task);
    if (out.completeChanged) completeChanged = true;
    if (out.plan && (S.lifecycle === "FROZEN" || S.lifecycle === "ARCHIVED")) setTimeout(loadReport, 300);
    if (!paintQueued) {
      paintQueued = true;
      requestAnimationFrame(paintDirty);
    }
    scheduleReconcile();
  }

  function paintDirty() {
    paintQueued = false;
    const at = now();
    for (const id of dirty) {
      const t = S.tasks.get(id);
      paintRow(t, at);
      if (S.graph) S.graph.update(id);
    }
    dirty = new Set();
    if (completeChanged) { completeChanged = false; markCritical(); }
    renderHeader();
    queueTimeline();
  }

  // The status again, when events have gone quiet for a moment (or after a reconnect): the page's
  // fold then matches the server's even for event types this page does not know.
  let reconcileTimer = null, reconcileFirst = 0, reconcileCost = 0;
  function scheduleReconcile(soon) {
    const nowMs = Date.now();
    if (!reconcileTimer) reconcileFirst = nowMs;
    clearTimeout(reconcileTimer);
    const maxWait = Math.max(10000, reconcileCost * 20);
    const wait = soon ? 200 : Math.min(Math.max(2000, reconcileCost * 10), Math.max(0, reconcileFirst + maxWait - nowMs));
    reconcileTimer = setTimeout(reconcile, wait);
  }

  async function reconcile() {
    reconcileTimer = null;
    const t0 = performance.now();
    let status;
    try { status = await api(`/v1/plans/${enc}/status`); } catch (_) { return; }
    reconcileCost = performance.now() - t0;
    mergeSnapshot(status);
  }

  // Takes a status snapshot as the model, then folds again the events after its seq that the
  // page already applied (from the feed), so the model never goes back.
  function mergeSnapshot(status) {
    const seq = status.journal ? status.journal.seq : null;
    if (seq === null || seq === undefined) return false;
    const after = S.events.filter((e) => e.seq > seq && e.seq <= S.modelSeq);
    if (S.modelSeq > seq && (!after.length || after[0].seq !== seq + 1 || after[after.length - 1].seq !== S.modelSeq)) return false;
    const prevModel = S.modelSeq;
    const keptBlocks = new Map(S.list.map((t) => [t.id, t.blocks]));
    const beforeComplete = new Map(S.list.map((t) => [t.id, LB.COMPLETE.has(t.status)]));
    applyStatus(status);
    for (const t of S.list) for (const b of keptBlocks.get(t.id) || []) addBlock(t, b);
    for (const e of after) applyEvent(e);
    if (S.modelSeq < prevModel) S.modelSeq = prevModel;
    const at = now();
    let changed = false;
    for (const t of S.list) {
      paintRow(t, at);
      if (S.graph) S.graph.update(t.id);
      if (beforeComplete.get(t.id) !== LB.COMPLETE.has(t.status)) changed = true;
    }
    if (changed) markCritical();
    renderHeader();
    queueTimeline();
    return true;
  }

  function applyStatus(status) {
    const pl = status.payload || {};
    const roles = (status.journal && status.journal.personas) || {};
    S.roles = {};
    for (const k in roles) {
      S.roles[k] = roles[k].role;
      if (!S.personas.has(k)) { S.personas.add(k); addOption($("filter-persona"), k, k); }
    }
    S.lifecycle = pl.lifecycle_status || (pl.overall_status_summary || {}).lifecycle_status || S.lifecycle || "ACTIVE";
    S.verdict = pl.validation_verdict ?? (pl.overall_status_summary || {}).validation_verdict ?? null;
    S.frozenSeq = pl.frozen_at_seq ?? null;
    S.modelSeq = status.journal ? status.journal.seq : S.modelSeq;
    S.lastTs = pl.last_update_ts || S.lastTs;
    for (const ts of pl.tasks_status || []) {
      const t = S.tasks.get(ts.task_id_ref);
      if (t) { t.blocks = []; mergeStatus(t, ts); }
    }
  }

  function onStreamState(st) {
    LB.showConnection(st);
    document.body.dataset.connection = st;
    if (st === "live" && S.wasDown) { S.wasDown = false; scheduleReconcile(true); }
    if (st === "disconnected") S.wasDown = true;
  }

  async function loadReport() {
    try {
      const loaded = await LBReport.load(planId, S.frozenSeq);
      LBReport.render($("report"), $("report-body"), $("report-meta"), loaded);
    } catch (e) {
      LBReport.render($("report"), $("report-body"), $("report-meta"), null);
      $("report-meta").textContent = e.message;
    }
  }

  // ---- load -------------------------------------------------------------------------------
  // With GET /v1/plans/{plan}/tasks the table renders from it alone; the plan (goal) and the
  // status (timeline details, verdict) follow. Without it (an older server), from plan + status.
  async function main() {
    $("crumb-plan").textContent = planId;
    $("plan-id").textContent = planId;
    document.title = `Logbook — ${planId}`;
    // A server that has just started may replay a long journal before its first answer.
    S.slowTimer = setTimeout(() => {
      $("tasks-meta").textContent = "waiting for the server (a long journal takes a while to open after a restart)…";
    }, 1500);
    let view = null;
    try {
      view = await api(`/v1/plans/${enc}/tasks`);
      if (!view || !Array.isArray(view.tasks)) view = null;
    } catch (e) {
      if (e.status === 401) { fatal("Loading the plan", e); return; }
      view = null;   // 404 (no such endpoint, or no such plan: the plan request says which), 409 (a DRAFT)
    }
    let live = true;
    let pending = null;
    if (view) {
      S.hasTasksEndpoint = true;
      for (const v of view.tasks) {
        if (!v || typeof v.task_id !== "string" || S.tasks.has(v.task_id)) continue;
        const t = taskFromView(v);
        S.tasks.set(t.id, t);
        S.list.push(t);
      }
      S.lifecycle = view.lifecycle || "ACTIVE";
      S.modelSeq = view.head_seq ?? -1;
      S.lastTs = view.head_ts || null;
      if (view.now) { const srv = LB.parseTS(view.now); if (srv !== null) S.skew = srv - Date.now(); }
      performance.mark("cockpit:data");
      // The rest (the goal, the status for the timeline and verdict) after the latest events.
      pending = () => ({
        plan: api(`/v1/plans/${enc}`).then(showGoal).catch((e) => LB.showError("Loading the plan", e)),
        status: api(`/v1/plans/${enc}/status`).then((st) => { mergeSnapshot(st); return st; }).catch((e) => { LB.showError("Loading the status", e); }),
      });
    } else {
      let plan, status;
      try {
        [plan, status] = await Promise.all([api(`/v1/plans/${enc}`), api(`/v1/plans/${enc}/status`).catch((e) => e)]);
      } catch (e) {
        fatal(e.status === 404 ? "No such plan" : "Loading the plan", e);
        return;
      }
      performance.mark("cockpit:data");
      for (const pt of (plan.payload || {}).tasks || []) {
        if (!pt || typeof pt.task_id !== "string" || S.tasks.has(pt.task_id)) continue;
        const t = newTask(pt);
        S.tasks.set(t.id, t);
        S.list.push(t);
      }
      showGoal(plan);
      if (status instanceof Error) {
        // A DRAFT plan has no status yet; anything else is worth saying.
        live = false;
        S.lifecycle = "DRAFT";
        if (status.status !== 404 && status.status !== 409) LB.showError("Loading the status", status);
      } else {
        applyStatus(status);
      }
    }
    clearTimeout(S.slowTimer);
    buildTable();
    renderHeader();
    document.body.dataset.rendered = String(Math.round(performance.now()));
    performance.mark("cockpit:table");
    wire();

    if (!live) {
      LB.showConnection("closed", "a DRAFT plan has no journal yet");
      const v = $("verify");
      v.textContent = "not locked: no journal";
      v.dataset.state = "none";
      v.className = "verify verify-error";
      $("verify-btn").disabled = true;
      renderFeed();
      setTimeout(() => { buildGraph(); renderTimeline(); }, 0);
      return;
    }
    if (S.filters.task && S.tasks.has(S.filters.task)) S.selected = S.filters.task;

    // The latest page of events, then the stream from the head on.
    const head = S.modelSeq;
    const from = Math.max(0, head - FEED_PAGE + 1);
    try {
      const evs = head >= 0 ? await api(`/v1/plans/${enc}/events?from=${from}&limit=${head - from + 1}`) : [];
      S.events = (evs || []).filter((e) => e.seq <= head);
      S.oldest = S.events.length ? S.events[0].seq : head + 1;
      harvestBlocks(S.events);
      S.events.forEach(noteEvent);
    } catch (e) {
      LB.showError("Loading events", e);
      S.oldest = head + 1;
    }
    performance.mark("cockpit:events");
    renderFeed();
    S.stream = new LB.LiveStream(planId, head + 1, { onEvent, onState: onStreamState });
    S.stream.start();
    fillLastTimes();
    requestAnimationFrame(() => {
      buildGraph();
      performance.mark("cockpit:graph");
      if (S.selected) selectTask(S.selected, false);
      setTimeout(() => { renderTimeline(); performance.mark("cockpit:timeline"); }, 0);
    });
    if (pending) await pending().status;
    runVerify(true);
    if (S.lifecycle === "FROZEN" || S.lifecycle === "ARCHIVED") loadReport();
    setInterval(tick, S.list.length > 300 ? 5000 : 1000);
    setInterval(() => { if (S.lifecycle === "ACTIVE" || S.lifecycle === "VALIDATING") queueTimeline(); }, 10000);
  }

  function fatal(where, e) {
    clearTimeout(S.slowTimer);
    LB.showError(where, e);
    document.body.classList.add("failed");
    LB.showConnection("closed", e.message);
    $("plan-verdict").textContent = "";
    const v = $("verify");
    v.textContent = "–";
    v.dataset.state = "error";
    v.className = "verify verify-error";
  }

  function showGoal(plan) {
    const goal = ((plan && plan.payload) || {}).plan_definition ? plan.payload.plan_definition.goal : null;
    $("plan-goal").textContent = typeof goal === "string" ? goal : goal ? JSON.stringify(goal) : "";
  }

  function wire() {
    fillSelects();
    $("feed-older").addEventListener("click", loadOlder);
    $("verify-btn").addEventListener("click", () => runVerify(false));
    $("task-search").addEventListener("input", searchTasks);
    $("filter-task").addEventListener("change", (e) => { setFilters({ task: e.target.value }); if (e.target.value) selectTask(e.target.value, false); });
    $("filter-persona").addEventListener("change", (e) => setFilters({ persona: e.target.value }));
    $("filter-type").addEventListener("change", (e) => setFilters({ type: e.target.value }));
    $("filter-clear").addEventListener("click", () => setFilters({ task: "", persona: "", type: "" }));
    $("feed").addEventListener("click", (e) => {
      const b = e.target.closest("button");
      if (!b) return;
      if (b.dataset.filterTask) { setFilters({ task: b.dataset.filterTask }); selectTask(b.dataset.filterTask, false); }
      else if (b.dataset.filterPersona) setFilters({ persona: b.dataset.filterPersona });
    });
    $("tasks").tBodies[0].addEventListener("click", (e) => {
      const tr = e.target.closest("tr[data-task]");
      if (tr) selectTask(tr.dataset.task, true);
    });
    $("graph-fit").addEventListener("click", () => S.graph && S.graph.fit());
    $("graph-zoom-in").addEventListener("click", () => S.graph && S.graph.zoom(1.25));
    $("graph-zoom-out").addEventListener("click", () => S.graph && S.graph.zoom(0.8));
    $("graph-legend").appendChild(legend());
  }

  // A server without last_event_ts in the status: the time of each task's last event, from the
  // loaded page, else fetched one by one for a few tasks (a big plan shows "seq N" instead).
  async function fillLastTimes() {
    const bySeq = new Map(S.events.map((e) => [e.seq, e.ts]));
    const missing = [];
    for (const t of S.list) {
      if (t.lastTs || t.lastSeq === null || t.lastSeq === undefined) continue;
      missing.push(t);
      if (bySeq.has(t.lastSeq)) t.lastTs = bySeq.get(t.lastSeq);
    }
    const unknown = missing.filter((t) => !t.lastTs);
    if (unknown.length && unknown.length <= 40) {
      const seqs = [...new Set(unknown.map((t) => t.lastSeq))];
      for (let i = 0; i < seqs.length; i += 6) {
        const got = await Promise.all(seqs.slice(i, i + 6).map((q) => api(`/v1/plans/${enc}/events?from=${q}&limit=1`).catch(() => [])));
        for (const evs of got) for (const e of evs || []) bySeq.set(e.seq, e.ts);
      }
      for (const t of missing) if (!t.lastTs && bySeq.has(t.lastSeq)) t.lastTs = bySeq.get(t.lastSeq);
    }
    const at = now();
    for (const t of missing) if (t.lastTs) paintRow(t, at);
  }

  function legend() {
    const frag = document.createDocumentFragment();
    for (const st of LB.STATUSES) frag.appendChild(h("span", { class: "lg" }, h("i", { class: "sw " + LB.statusClass(st) }), st.toLowerCase().replace("_", " ")));
    frag.appendChild(h("span", { class: "lg" }, h("i", { class: "sw critical" }), "critical path"));
    return frag;
  }

  main();
})();
