// Logbook cockpit: shared helpers (no framework, no build step).
//
// Every piece of text that comes from a plan or a journal (titles, notes, reasons, summaries,
// persona names) was written by an agent and is treated as hostile: it reaches the page only
// through textContent, createTextNode or setAttribute on plain attributes, never as HTML.
"use strict";

const LB = (() => {
  const STATUSES = ["PENDING", "IN_PROGRESS", "BLOCKED", "FAILED", "DONE", "WAIVED"];
  const COMPLETE = new Set(["DONE", "WAIVED"]);
  const EVENT_TYPES = [
    "created", "migrated", "started", "progress", "test_result", "blocked", "unblocked", "failed",
    "retried", "done", "achievement", "lock_override", "reopened", "waived", "heartbeat", "requeued",
    "key_changed", "validation_started", "validated", "frozen", "archived",
  ];
  const LIFECYCLES = ["DRAFT", "ACTIVE", "VALIDATING", "FROZEN", "ARCHIVED", "UNREADABLE"];

  // ---- the read token -------------------------------------------------------------------------
  // Taken from ?access_token= once, kept in this tab's sessionStorage and removed from the address
  // bar (so it does not stay in the history or get copied with a shared link).
  const TOKEN_KEY = "logbook.access_token";
  let token = null;
  (() => {
    const url = new URL(window.location.href);
    const t = url.searchParams.get("access_token");
    if (t) {
      token = t;
      try { sessionStorage.setItem(TOKEN_KEY, t); } catch (_) { /* storage off: keep it in memory */ }
      url.searchParams.delete("access_token");
      history.replaceState(null, "", url.pathname + url.search + url.hash);
    } else {
      try { token = sessionStorage.getItem(TOKEN_KEY); } catch (_) { token = null; }
    }
  })();

  class ApiError extends Error {
    constructor(status, body, path) {
      const e = (body && body.error) || {};
      super(e.message || `HTTP ${status} for ${path}`);
      this.status = status;
      this.code = e.code || null;
      this.detail = e;
      this.path = path;
    }
  }

  async function api(path, opts = {}) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    const res = await fetch(path, { headers, cache: "no-store", signal: opts.signal });
    let body = null;
    const text = await res.text();
    if (text) {
      try { body = JSON.parse(text); } catch (_) { body = null; }
    }
    if (!res.ok) throw new ApiError(res.status, body, path);
    return body;
  }

  function streamURL(plan, from) {
    let u = `/v1/plans/${encodeURIComponent(plan)}/events/stream?from=${from}`;
    if (token) u += "&access_token=" + encodeURIComponent(token);
    return u;
  }

  // ---- DOM building ---------------------------------------------------------------------------
  // h("td", {class: "x", data: {task: id}, title: t}, child, "text", …): strings become text nodes.
  function h(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) setAttrs(e, attrs);
    append(e, children);
    return e;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const e = document.createElementNS(SVG_NS, tag);
    if (attrs) setAttrs(e, attrs);
    append(e, children);
    return e;
  }

  function setAttrs(e, attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.setAttribute("class", v);
      else if (k === "text") e.textContent = v;
      else if (k === "data") { for (const d in v) if (v[d] !== null && v[d] !== undefined) e.dataset[d] = String(v[d]); }
      else if (k === "on") { for (const ev in v) e.addEventListener(ev, v[ev]); }
      else if (/^on/i.test(k) || k === "style" || k === "srcdoc") throw new Error("unsafe attribute " + k);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
  }

  function append(e, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(e, c);
      else if (c instanceof Node) e.appendChild(c);
      else e.appendChild(document.createTextNode(String(c)));
    }
  }

  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }

  function statusClass(st) { return "status-" + String(st || "unknown").toLowerCase(); }

  function badge(text, cls) { return h("span", { class: "badge " + cls }, text); }

  function statusBadge(st) { return badge(st || "?", statusClass(st)); }

  function lifecycleBadge(lc) { return badge(lc || "?", "lc lc-" + String(lc || "unknown").toLowerCase()); }

  // A progress bar whose width is set through the CSSOM (allowed by the CSP, unlike style="").
  function bar(percent, cls) {
    const fill = h("div", { class: "fill" });
    const b = h("div", { class: "bar " + (cls || "") }, fill);
    setBar(b, percent);
    return b;
  }

  function setBar(b, percent) {
    const p = Math.max(0, Math.min(100, Number(percent) || 0));
    b.firstChild.style.width = p + "%";
  }

  // ---- numbers and times ----------------------------------------------------------------------
  function pct(n) {
    if (n === null || n === undefined || Number.isNaN(Number(n))) return "–";
    const v = Math.round(Number(n) * 10) / 10;
    return v + " %";
  }

  function parseTS(ts) {
    if (!ts) return null;
    const t = Date.parse(ts);
    return Number.isNaN(t) ? null : t;
  }

  function age(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min ago";
    return Math.floor(s / 86400) + " d ago";
  }

  function ageOf(ts, now) {
    const t = parseTS(ts);
    return t === null ? "–" : age(((now || Date.now()) - t) / 1000);
  }

  function duration(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
    const s = ms / 1000;
    if (s < 1) return Math.round(ms) + " ms";
    if (s < 60) return (Math.round(s * 10) / 10) + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  function clock(ts) {
    const t = parseTS(ts);
    if (t === null) return "";
    const d = new Date(t);
    const p = (n, w = 2) => String(n).padStart(w, "0");
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  // Local time as 2026-12-02 14:03:07.123 (built by hand: toLocaleString makes a formatter per call,
  // slow for 1,000 rows).
  function localTime(ts) {
    const t = parseTS(ts);
    if (t === null) return "";
    const d = new Date(t);
    const p = (n, w = 2) => String(n).padStart(w, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  }

  function shortHash(hsh) {
    if (!hsh) return "–";
    const x = String(hsh).replace(/^sha256:/, "");
    return x.slice(0, 12) + "…";
  }

  // The one-line text of an event (all of it agent text: the caller puts it in with textContent).
  function eventText(ev) {
    const st = ev.stmt || {};
    const d = st.data || {};
    const str = (v) => (v === null || v === undefined ? "" : String(v));
    switch (st.type) {
      case "created": return `plan locked: ${Array.isArray(d.tasks) ? d.tasks.length + " tasks" : "genesis"}`;
      case "migrated": return "migrated from a legacy plan";
      case "started": return d.lease_seconds ? `started (lease ${d.lease_seconds} s)` : "started";
      case "progress": return `${str(d.percent)} %` + (d.note ? " — " + str(d.note) : "");
      case "test_result": {
        let t = `${str(d.suite)}: ${Number(d.passed) || 0} passed, ${Number(d.failed) || 0} failed`;
        if (d.skipped) t += `, ${Number(d.skipped)} skipped`;
        return t;
      }
      case "blocked": return "blocked: " + str(d.reason);
      case "unblocked": return d.reason ? "unblocked: " + str(d.reason) : "unblocked";
      case "failed": return "failed: " + str(d.reason);
      case "retried": return "retry" + (ev.facts && ev.facts.attempt ? " " + ev.facts.attempt : "") + (d.reason ? ": " + str(d.reason) : "");
      case "done": return d.summary ? "done: " + str(d.summary) : "done";
      case "achievement": return "achievement: " + str(d.summary);
      case "lock_override": return `override ${str(d.rule)}` + (d.reason ? ": " + str(d.reason) : "");
      case "reopened": return "reopened" + (d.reason ? ": " + str(d.reason) : "");
      case "waived": return "waived" + (d.reason ? ": " + str(d.reason) : "");
      case "heartbeat": return "heartbeat";
      case "requeued": return "requeued" + (d.reason ? ": " + str(d.reason) : "");
      case "key_changed": return `key changed for ${str(d.persona)}`;
      case "validation_started": return "validation started";
      case "validated": return `validated: verdict ${str(d.verdict)}` + (d.note ? " — " + str(d.note) : "");
      case "frozen": return `frozen at seq ${str(d.final_seq !== undefined ? d.final_seq : ev.seq)}`;
      case "archived": return "archived";
      default: return str(st.type);
    }
  }

  // ---- the live event stream ------------------------------------------------------------------
  // Follows /v1/plans/{plan}/events/stream from a seq. Reconnects itself (closing the old
  // EventSource, with backoff) from the last seq it delivered + 1, and hands every event to
  // onEvent in seq order exactly once: an event at or below the last delivered seq is dropped,
  // a gap (an event type this page does not know, or anything else) is filled from
  // /v1/plans/{plan}/events before the later events are delivered.
  class LiveStream {
    constructor(plan, fromSeq, { onEvent, onState }) {
      this.plan = plan;
      this.last = fromSeq - 1;
      this.onEvent = onEvent;
      this.onState = onState || (() => {});
      this.es = null;
      this.backoff = 500;
      this.timer = null;
      this.pending = new Map();
      this.filling = false;
      this.stopped = false;
      this.state = null;
    }

    start() { this.connect(); }

    stop() {
      this.stopped = true;
      clearTimeout(this.timer);
      if (this.es) this.es.close();
      this.es = null;
    }

    setState(st) {
      if (st === this.state) return;
      this.state = st;
      this.onState(st);
    }

    connect() {
      if (this.stopped) return;
      if (this.es) this.es.close();
      this.setState("connecting");
      const es = new EventSource(streamURL(this.plan, this.last + 1));
      this.es = es;
      const handler = (m) => this.receive(m);
      for (const t of EVENT_TYPES) es.addEventListener(t, handler);
      es.onmessage = handler;
      es.onopen = () => {
        if (this.es !== es) return;
        this.backoff = 500;
        this.setState("live");
      };
      es.onerror = () => {
        if (this.es !== es) return;
        es.close();
        this.es = null;
        this.setState("disconnected");
        this.timer = setTimeout(() => this.connect(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 5000);
      };
    }

    receive(m) {
      let ev;
      try { ev = JSON.parse(m.data); } catch (_) { return; }
      if (typeof ev.seq !== "number") return;
      this.ingest(ev);
    }

    ingest(ev) {
      if (ev.seq <= this.last) return;
      if (ev.seq === this.last + 1) {
        this.deliver(ev);
        this.drain();
        return;
      }
      this.pending.set(ev.seq, ev);
      this.fill();
    }

    deliver(ev) {
      this.last = ev.seq;
      try { this.onEvent(ev); } catch (e) { console.error("cockpit: applying event", ev.seq, e); }
    }

    drain() {
      while (this.pending.has(this.last + 1)) {
        const ev = this.pending.get(this.last + 1);
        this.pending.delete(this.last + 1);
        this.deliver(ev);
      }
      for (const k of this.pending.keys()) if (k <= this.last) this.pending.delete(k);
    }

    async fill() {
      if (this.filling) return;
      this.filling = true;
      try {
        while (this.pending.size && !this.stopped) {
          const next = Math.min(...this.pending.keys());
          if (next <= this.last + 1) { this.drain(); continue; }
          const n = Math.min(1000, next - this.last - 1);
          const before = this.last;
          const evs = await api(`/v1/plans/${encodeURIComponent(this.plan)}/events?from=${this.last + 1}&limit=${n}`);
          if (!Array.isArray(evs)) throw new Error("the events endpoint did not answer an array");
          for (const ev of evs) if (ev.seq === this.last + 1) this.deliver(ev);
          this.drain();
          if (this.last === before) throw new Error(`the events from seq ${before + 1} did not arrive`);
        }
      } catch (e) {
        console.warn("cockpit: filling a gap", e);
        setTimeout(() => { this.filling = false; this.fill(); }, 1000);
        return;
      }
      this.filling = false;
    }
  }

  // The #connection indicator.
  function showConnection(state, detail) {
    const c = document.getElementById("connection");
    if (!c) return;
    const text = { live: "live", connecting: "connecting…", disconnected: "disconnected — reconnecting", closed: "not live" }[state] || state;
    c.textContent = text;
    c.dataset.state = state;
    c.className = "conn conn-" + state;
    c.title = detail || (state === "live" ? "following the journal's event stream" : "");
  }

  function showError(where, err) {
    const box = document.getElementById("error");
    if (!box) return;
    clear(box);
    let msg = err && err.message ? err.message : String(err);
    if (err && err.status === 401) {
      msg = "This server needs a read token: open the cockpit as …?access_token=<token>. (" + msg + ")";
    }
    box.appendChild(h("strong", null, where + ": "));
    box.appendChild(document.createTextNode(msg));
    box.hidden = false;
  }

  function hideError() {
    const box = document.getElementById("error");
    if (box) box.hidden = true;
  }

  return {
    STATUSES, COMPLETE, EVENT_TYPES, LIFECYCLES, ApiError, api, streamURL, h, s, clear, statusClass, badge,
    statusBadge, lifecycleBadge, bar, setBar, pct, parseTS, age, ageOf, duration, clock, localTime, shortHash,
    eventText, LiveStream, showConnection, showError, hideError,
  };
})();
