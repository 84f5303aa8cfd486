// Logbook cockpit: the Validation Report of a FROZEN or ARCHIVED plan.
// From GET /v1/plans/{plan}/report when the server has it; else rebuilt, in part, from the
// plan's last `validated` event (criteria and verdict) and the status.
"use strict";

const LBReport = (() => {
  const { h, api, clear } = LB;

  async function load(planId, frozenSeq) {
    const enc = encodeURIComponent(planId);
    try {
      return { report: await api(`/v1/plans/${enc}/report`), source: "report" };
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    // No report endpoint: the verdict is in the last `validated` event before the freeze.
    if (frozenSeq === null || frozenSeq === undefined) return null;
    const from = Math.max(0, frozenSeq - 20);
    const evs = await api(`/v1/plans/${enc}/events?from=${from}&limit=${frozenSeq - from + 1}`);
    const validated = (evs || []).filter((e) => e.stmt && e.stmt.type === "validated").pop();
    const frozen = (evs || []).find((e) => e.seq === frozenSeq);
    if (!validated) return null;
    const d = validated.stmt.data || {};
    return {
      source: "events",
      report: {
        verdict: d.verdict, criteria: d.criteria || [], override_reason: d.override_reason || null, note: d.note || null,
        frozen_at_seq: frozenSeq, frozen_at_ts: frozen ? frozen.ts : null,
        final_head_hash: frozen && frozen.stmt.data ? frozen.stmt.data.head : null,
        final_seq: frozen && frozen.stmt.data ? frozen.stmt.data.final_seq : null,
        validated_by: validated.stmt.persona, validated_seq: validated.seq,
      },
    };
  }

  function verdictClass(v) {
    return v === "PASS" ? "status-done" : v === "FAIL" ? "status-failed" : v ? "status-blocked" : "status-pending";
  }

  function kv(label, value, cls) {
    return h("div", { class: "kv" }, h("span", { class: "kv-k" }, label), h("span", { class: "kv-v " + (cls || "") }, value));
  }

  function render(section, body, metaEl, loaded) {
    clear(body);
    if (!loaded) {
      body.appendChild(h("p", { class: "muted" }, "No Validation Report is available for this plan."));
      section.hidden = false;
      return;
    }
    const r = loaded.report || {};
    const verdict = r.verdict || r.validation_verdict || null;
    metaEl.textContent = loaded.source === "report"
      ? (r.schema ? r.schema : "") + (r.report_hash ? " · report " + LB.shortHash(r.report_hash) : "")
      : "rebuilt from the journal (the server has no /report endpoint)";

    const top = h("div", { class: "report-top" },
      h("div", { class: "verdict" }, h("span", { class: "stat-label" }, "Verdict"), LB.badge(verdict || "none", "big " + verdictClass(verdict))),
      h("div", { class: "kvs" },
        kv("Frozen at", r.frozen_at_seq !== undefined && r.frozen_at_seq !== null ? `seq ${r.frozen_at_seq}` + (r.frozen_at_ts ? " · " + LB.localTime(r.frozen_at_ts) : "") : "–"),
        kv("Final head", r.final_head_hash ? LB.shortHash(r.final_head_hash) : "–", "mono"),
        r.report_hash ? kv("Report hash", LB.shortHash(r.report_hash), "mono") : null,
        r.plan_digest ? kv("Plan digest", LB.shortHash(r.plan_digest), "mono") : null,
        r.validated_by ? kv("Validated by", `${r.validated_by} (seq ${r.validated_seq})`) : null,
        r.verify ? kv("Verify at freeze", r.verify.ok ? `ok, ${r.verify.events} events to seq ${r.verify.last_seq}` : `failed: ${r.verify.failure || "?"}`, r.verify.ok ? "ok-text" : "bad-text") : null,
        r.unsigned_events ? kv("Unsigned events", String(r.unsigned_events)) : null,
        r.override_reason ? kv("Override reason", r.override_reason) : null,
        r.note || r.validation_note ? kv("Note", r.note || r.validation_note) : null));
    for (const [k, v] of [["Final head", r.final_head_hash], ["Report hash", r.report_hash], ["Plan digest", r.plan_digest]]) {
      if (!v) continue;
      const el = [...top.querySelectorAll(".kv")].find((x) => x.firstChild.textContent === k);
      if (el) el.lastChild.title = v;
    }
    body.appendChild(top);

    const crit = r.criteria || [];
    if (crit.length) {
      const tb = h("tbody");
      for (const c of crit) {
        tb.appendChild(h("tr", { data: { criterion: c.name, pass: String(!!c.pass) } },
          h("td", { class: "mono" }, c.name || ""), h("td", null, c.expected || ""),
          h("td", null, LB.badge(c.pass ? "pass" : "fail", c.pass ? "status-done" : "status-failed")),
          h("td", null, c.actual || "")));
      }
      body.appendChild(h("h3", null, "Criteria"));
      body.appendChild(h("table", { class: "grid compact criteria" },
        h("thead", null, h("tr", null, h("th", null, "Criterion"), h("th", null, "Expected"), h("th", null, "Result"), h("th", null, "Actual"))), tb));
    }

    const counts = r.event_counts_by_type;
    if (counts && typeof counts === "object") {
      const line = h("div", { class: "counts report-counts" });
      for (const [k, v] of Object.entries(counts)) line.appendChild(h("span", { class: "chip" }, `${v} ${k}`));
      body.appendChild(h("h3", null, "Events by type"));
      body.appendChild(line);
    }

    const bh = r.blockers_history || [];
    if (bh.length) {
      const tb = h("tbody");
      for (const b of bh) {
        tb.appendChild(h("tr", null, h("td", { class: "mono" }, b.task_id || ""), h("td", null, b.reason || ""), h("td", null, b.blocked_by || ""),
          h("td", { class: "num" }, b.blocked_seq ?? "–"), h("td", null, b.resolution || (b.resolved_seq !== null && b.resolved_seq !== undefined ? "resolved" : "open")),
          h("td", { class: "num" }, b.resolved_seq ?? "–")));
      }
      body.appendChild(h("h3", null, "Blockers history"));
      body.appendChild(h("table", { class: "grid compact" },
        h("thead", null, h("tr", null, h("th", null, "Task"), h("th", null, "Reason"), h("th", null, "By"), h("th", { class: "num" }, "Seq"),
          h("th", null, "Resolution"), h("th", { class: "num" }, "Resolved"))), tb));
    }

    const ach = r.achievements || [];
    if (ach.length) {
      const ul = h("ul", { class: "achievements" });
      for (const a of ach) ul.appendChild(h("li", null, h("span", { class: "mono" }, a.task_id_ref || "plan"), " ", a.summary || "", h("span", { class: "muted" }, ` — ${a.persona_id || ""}, seq ${a.seq}`)));
      body.appendChild(h("h3", null, "Achievements"));
      body.appendChild(ul);
    }

    const tasks = r.tasks || [];
    if (tasks.length) {
      const tb = h("tbody");
      const frag = document.createDocumentFragment();
      for (const t of tasks) {
        const suites = Object.entries(t.latest_tests || {}).map(([k, v]) => `${k}: ${v.passed}✓ ${v.failed}✗`).join(", ");
        frag.appendChild(h("tr", null, h("td", { class: "mono" }, t.task_id || ""), h("td", null, t.title || ""), h("td", null, LB.statusBadge(t.status)),
          h("td", { class: "num" }, `${t.attempts ?? "–"}`), h("td", { class: "num" }, `${t.failures ?? 0}`), h("td", { class: "num" }, `${t.retries_used ?? 0} / ${t.max_retries ?? 0}`),
          h("td", { class: "num" }, LB.duration(t.time_in_progress_ms)), h("td", null, suites || "–")));
      }
      tb.appendChild(frag);
      body.appendChild(h("details", { class: "report-tasks" }, h("summary", null, `Per-task outcome (${tasks.length} tasks)`),
        h("table", { class: "grid compact" },
          h("thead", null, h("tr", null, h("th", null, "Task"), h("th", null, "Title"), h("th", null, "Status"), h("th", { class: "num" }, "Attempts"),
            h("th", { class: "num" }, "Failures"), h("th", { class: "num" }, "Retries"), h("th", { class: "num" }, "In progress"), h("th", null, "Latest tests"))), tb)));
    }
    section.hidden = false;
  }

  return { load, render };
})();
