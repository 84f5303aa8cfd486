// Logbook cockpit: the timeline. One bar per task from its first start to its completion (to
// now while it is open), coloured by status; blocks are amber spans on the bar, failures red
// ticks and retries dark ticks. Plain positioned elements (widths set through the CSSOM).
"use strict";

const LBTimeline = (() => {
  const { h, clear } = LB;

  function render(container, meta, tasks, opts) {
    clear(container);
    const now = opts.now;
    // A task shows from its first start, or from its first block when it was blocked before it started.
    const begin = (t) => LB.parseTS(t.firstStartedTs) ?? (t.blocks || []).reduce((m, b) => {
      const x = LB.parseTS(b.from);
      return x === null ? m : m === null ? x : Math.min(m, x);
    }, null);
    const started = tasks.filter((t) => begin(t) !== null);
    if (!started.length) {
      container.appendChild(h("p", { class: "muted empty" }, "No task has started yet."));
      meta.textContent = "";
      return;
    }
    let t0 = Infinity, t1 = -Infinity;
    for (const t of started) {
      const a = begin(t);
      t0 = Math.min(t0, a);
      const end = taskEnd(t, opts, a);
      t1 = Math.max(t1, end);
    }
    if (opts.live) t1 = Math.max(t1, now);
    if (!(t1 > t0)) t1 = t0 + 1000;
    const span = t1 - t0;
    const x = (ms) => ((ms - t0) / span) * 100;

    const axis = h("div", { class: "tl-axis" }, h("span", { class: "tl-label" }));
    const scale = h("div", { class: "tl-scale" });
    for (let k = 0; k <= 4; k++) {
      const tick = h("span", { class: "tl-tick" }, k === 0 ? LB.clock(new Date(t0).toISOString()).slice(0, 8) : "+" + LB.duration((span * k) / 4));
      tick.style.left = (k * 25) + "%";
      if (k === 4) tick.classList.add("last");
      scale.appendChild(tick);
    }
    axis.appendChild(scale);

    const frag = document.createDocumentFragment();
    started.sort((a, b) => begin(a) - begin(b));
    for (const t of started) {
      const a = begin(t);
      const neverStarted = LB.parseTS(t.firstStartedTs) === null;
      const end = taskEnd(t, opts, a);
      const open = !LB.parseTS(t.completedTs);
      const track = h("div", { class: "tl-track" });
      const barEl = h("div", { class: "tl-bar " + LB.statusClass(t.status) + (open ? " open" : "") + (neverStarted ? " not-started" : ""),
        title: neverStarted ? `${t.id}: ${t.status}, not started (blocked since ${LB.localTime(new Date(a).toISOString())})`
          : `${t.id}: ${t.status}, from ${LB.localTime(t.firstStartedTs)}` + (open ? " (still open)" : ` to ${LB.localTime(t.completedTs)}`) + ` — ${LB.duration(end - a)}` });
      barEl.style.left = x(a) + "%";
      barEl.style.width = Math.max(0.3, x(end) - x(a)) + "%";
      track.appendChild(barEl);
      for (const b of t.blocks || []) {
        const bs = LB.parseTS(b.from);
        if (bs === null) continue;
        const be = LB.parseTS(b.to) ?? (t.status === "BLOCKED" ? (opts.live ? now : end) : bs);
        const el = h("div", { class: "tl-block", title: `blocked${b.to ? "" : " (open)"}: ${b.reason || ""}` });
        el.style.left = x(bs) + "%";
        el.style.width = Math.max(0.4, x(be) - x(bs)) + "%";
        track.appendChild(el);
      }
      for (const f of t.failures || []) {
        const ft = LB.parseTS(f.ts);
        if (ft === null) continue;
        const el = h("div", { class: "tl-mark tl-fail", title: `failed (seq ${f.seq}): ${f.reason || ""}` });
        el.style.left = x(ft) + "%";
        track.appendChild(el);
      }
      for (const r of t.retries || []) {
        const rt = LB.parseTS(r.ts);
        if (rt === null) continue;
        const el = h("div", { class: "tl-mark tl-retry", title: `retry ${r.attempt || ""} (seq ${r.seq}): ${r.reason || ""}` });
        el.style.left = x(rt) + "%";
        track.appendChild(el);
      }
      frag.appendChild(h("div", { class: "tl-row", data: { task: t.id, status: t.status } },
        h("span", { class: "tl-label", title: t.title || "" }, t.id), track));
    }
    const rows = h("div", { class: "tl-rows" });
    rows.appendChild(frag);
    container.append(axis, rows,
      h("div", { class: "tl-legend" },
        h("span", { class: "lg" }, h("i", { class: "sw tl-block" }), "blocked"),
        h("span", { class: "lg" }, h("i", { class: "sw tl-fail" }), "failed"),
        h("span", { class: "lg" }, h("i", { class: "sw tl-retry" }), "retried")));
    const notStarted = tasks.length - started.length;
    meta.textContent = `${started.length} shown` + (notStarted ? `, ${notStarted} not started` : "") + ` · ${LB.duration(span)}`;
  }

  function taskEnd(t, opts, begin) {
    const done = LB.parseTS(t.completedTs);
    if (done !== null) return done;
    if (opts.live) return opts.now;
    return Math.max(begin, LB.parseTS(t.lastTs) ?? begin);
  }

  return { render };
})();
