// Logbook cockpit: the plan list at /. Polls /v1/plans every few seconds and updates the rows
// in place; counts by status, blockers, stale and last activity come from the summary when the
// server gives them, else from each plan's status (fetched again only when its head seq moved).
"use strict";

(() => {
  const { h, api, clear } = LB;
  const POLL_MS = 3000;
  const tbody = document.querySelector("#plan-list tbody");
  const rows = new Map();      // plan_id → row refs
  const details = new Map();   // plan_id → {head, counts, blockers, stale, last, fetching, at}
  let failures = 0;

  function cell(cls, ...children) { return h("td", { class: cls }, ...children); }

  function makeRow(p) {
    const link = h("a", { href: "/plans/" + encodeURIComponent(p.plan_id), class: "plan-link" }, p.plan_id);
    const current = h("span", { class: "badge current", title: "state.txt points at this plan" }, "current");
    const lifecycle = h("span");
    const b = LB.bar(0);
    const pctText = h("span", { class: "pct" });
    const refs = {
      tr: h("tr", { data: { plan: p.plan_id } }),
      link, current, lifecycle, bar: b, pctText,
      tasks: cell("num"), counts: cell("c-counts"), blockers: cell("num"), stale: cell("num"),
      head: cell("num mono"), last: cell("age"), lastTS: null,
      err: h("div", { class: "row-error" }),
    };
    refs.tr.append(
      cell("c-plan", link, " ", current, refs.err),
      cell("", lifecycle),
      cell("c-completion", h("div", { class: "barline" }, b, pctText)),
      refs.tasks, refs.counts, refs.blockers, refs.stale, refs.head, refs.last,
    );
    return refs;
  }

  function countsView(counts) {
    const frag = document.createDocumentFragment();
    if (!counts) { frag.appendChild(document.createTextNode("–")); return frag; }
    for (const st of LB.STATUSES) {
      const n = counts[st] || 0;
      if (!n) continue;
      frag.appendChild(h("span", { class: "chip " + LB.statusClass(st), title: st, data: { status: st } }, `${n} ${st.toLowerCase().replace("_", " ")}`));
    }
    if (!frag.childNodes.length) frag.appendChild(document.createTextNode("–"));
    return frag;
  }

  function update(refs, p) {
    const d = details.get(p.plan_id) || {};
    refs.tr.dataset.lifecycle = p.lifecycle || "";
    refs.current.hidden = !p.current;
    clear(refs.lifecycle);
    refs.lifecycle.appendChild(LB.lifecycleBadge(p.lifecycle));
    LB.setBar(refs.bar, p.completion);
    refs.bar.classList.toggle("complete", Number(p.completion) >= 100);
    refs.pctText.textContent = p.completion === null || p.completion === undefined ? "–" : LB.pct(p.completion);
    refs.tasks.textContent = p.tasks === undefined || p.tasks === null ? "–" : String(p.tasks);
    const counts = p.task_counts || d.counts || null;
    clear(refs.counts);
    refs.counts.appendChild(countsView(counts));
    const blockers = p.blockers !== undefined ? p.blockers : d.blockers;
    refs.blockers.textContent = blockers === undefined || blockers === null ? "–" : String(blockers);
    refs.blockers.classList.toggle("warn", Number(blockers) > 0);
    const stale = p.stale !== undefined ? p.stale : d.stale;
    refs.stale.textContent = stale === undefined || stale === null ? "–" : String(stale);
    refs.stale.classList.toggle("warn", Number(stale) > 0);
    refs.head.textContent = p.head_seq === null || p.head_seq === undefined ? "–" : String(p.head_seq);
    refs.lastTS = p.last_activity || d.last || null;
    refs.last.title = refs.lastTS ? LB.localTime(refs.lastTS) : "";
    refs.last.textContent = refs.lastTS ? LB.ageOf(refs.lastTS) : "–";
    refs.err.textContent = p.error ? (p.error.message || String(p.error)) : "";
    refs.err.hidden = !p.error;
  }

  // The status of a plan whose summary lacks the counts (servers before task_counts): fetched
  // when its head moved, not more often than every 15 s for a big plan.
  function needDetails(p) {
    if (p.task_counts && p.blockers !== undefined && p.stale !== undefined && p.last_activity !== undefined) return false;
    if (p.head_seq === null || p.head_seq === undefined || p.lifecycle === "DRAFT" || p.lifecycle === "UNREADABLE") return false;
    const d = details.get(p.plan_id);
    if (!d) return true;
    if (d.fetching || d.head === p.head_seq) return false;
    const minGap = (p.tasks || 0) > 200 ? 15000 : 0;
    return Date.now() - d.at >= minGap;
  }

  async function fetchDetails(p) {
    const d = details.get(p.plan_id) || { at: 0 };
    d.fetching = true;
    details.set(p.plan_id, d);
    try {
      const st = await api(`/v1/plans/${encodeURIComponent(p.plan_id)}/status`);
      const pl = st.payload || {};
      const sum = pl.overall_status_summary || {};
      const now = Date.now();
      let counts = sum.task_counts || null;
      const tasks = pl.tasks_status || [];
      if (!counts) {
        counts = {};
        for (const t of tasks) counts[t.status] = (counts[t.status] || 0) + 1;
      }
      let stale = null;
      if (tasks.some((t) => t.lease !== undefined)) {
        stale = tasks.filter((t) => t.lease && t.lease.expires_ts && (t.status === "IN_PROGRESS" || t.status === "BLOCKED") &&
          LB.parseTS(t.lease.expires_ts) <= now).length;
      }
      d.counts = counts;
      d.blockers = counts.BLOCKED || 0;
      d.stale = stale;
      d.last = pl.last_update_ts || null;
      d.head = st.journal ? st.journal.seq : p.head_seq;
    } catch (e) {
      d.head = null;
    } finally {
      d.fetching = false;
      d.at = Date.now();
    }
    const refs = rows.get(p.plan_id);
    if (refs && refs.plan) update(refs, refs.plan);
  }

  function order(a, b) {
    const live = (p) => (p.lifecycle === "ACTIVE" || p.lifecycle === "VALIDATING" ? 0 : 1);
    return live(a) - live(b) || (b.g || 0) - (a.g || 0) || String(a.plan_id).localeCompare(String(b.plan_id));
  }

  async function poll() {
    try {
      const plans = await api("/v1/plans");
      failures = 0;
      LB.hideError();
      LB.showConnection("live", "the list refreshes every " + POLL_MS / 1000 + " s");
      render(Array.isArray(plans) ? plans : []);
    } catch (e) {
      failures++;
      LB.showConnection("disconnected", e.message);
      if (e.status) LB.showError("Plans", e);
    }
    setTimeout(poll, failures ? Math.min(POLL_MS * failures, 10000) : POLL_MS);
  }

  function render(plans) {
    plans.sort(order);
    const seen = new Set();
    const frag = document.createDocumentFragment();
    for (const p of plans) {
      seen.add(p.plan_id);
      let refs = rows.get(p.plan_id);
      if (!refs) { refs = makeRow(p); rows.set(p.plan_id, refs); }
      refs.plan = p;
      update(refs, p);
      frag.appendChild(refs.tr);
      if (needDetails(p)) fetchDetails(p);
    }
    for (const id of [...rows.keys()]) if (!seen.has(id)) rows.delete(id);
    clear(tbody);
    if (!plans.length) tbody.appendChild(h("tr", { class: "placeholder" }, h("td", { colspan: 9 }, "No plans in this workspace yet.")));
    tbody.appendChild(frag);
    const active = plans.filter((p) => p.lifecycle === "ACTIVE" || p.lifecycle === "VALIDATING").length;
    document.getElementById("plans-summary").textContent = `${plans.length} plan${plans.length === 1 ? "" : "s"} · ${active} live`;
    document.body.dataset.rendered = String(Math.round(performance.now()));
  }

  // Ages tick without a request.
  setInterval(() => {
    for (const refs of rows.values()) if (refs.lastTS) refs.last.textContent = LB.ageOf(refs.lastTS);
  }, 1000);

  poll();
})();
