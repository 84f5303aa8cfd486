// Logbook cockpit: the dependency graph, drawn as SVG (createElementNS only).
//
// Layout: layered left to right by dependency depth (a task's column is 1 + the deepest of its
// dependencies), ordered within a column by the mean row of its dependencies (one barycentre
// sweep). Linear in tasks + dependencies: no force layout, so 1,000 tasks draw at once.
//
// Critical path: the longest dependency chain, counted in tasks, among the tasks not yet DONE or
// WAIVED (edges between open tasks only); over all tasks when every task is complete.
"use strict";

const LBGraph = (() => {
  const { s } = LB;
  const NODE_W = 136, NODE_H = 40, COL = 190, ROW = 52, PAD = 18;

  function layout(tasks) {
    const n = tasks.length;
    const index = new Map();
    tasks.forEach((t, i) => index.set(t.id, i));
    const parents = tasks.map((t) => (t.deps || []).filter((d) => index.has(d)).map((d) => index.get(d)));
    const children = tasks.map(() => []);
    const indeg = new Array(n).fill(0);
    parents.forEach((ps, i) => { for (const p of ps) { children[p].push(i); indeg[i]++; } });
    const depth = new Array(n).fill(0);
    const topo = [];
    const queue = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
    for (let q = 0; q < queue.length; q++) {
      const i = queue[q];
      topo.push(i);
      for (const c of children[i]) {
        if (depth[i] + 1 > depth[c]) depth[c] = depth[i] + 1;
        if (--indeg[c] === 0) queue.push(c);
      }
    }
    if (topo.length < n) { // a cycle (a locked plan has none): draw the rest in column 0
      const inTopo = new Uint8Array(n);
      for (const i of topo) inTopo[i] = 1;
      for (let i = 0; i < n; i++) if (!inTopo[i]) topo.push(i);
    }
    const columns = [];
    for (let i = 0; i < n; i++) (columns[depth[i]] = columns[depth[i]] || []).push(i);
    const row = new Array(n).fill(0);
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c] || (columns[c] = []);
      if (c > 0) {
        const key = new Map();
        col.forEach((i, k) => {
          const ps = parents[i];
          key.set(i, ps.length ? ps.reduce((a, p) => a + row[p], 0) / ps.length : k);
        });
        col.sort((a, b) => key.get(a) - key.get(b) || a - b);
      }
      col.forEach((i, k) => { row[i] = k; });
    }
    const maxRows = columns.reduce((m, c) => Math.max(m, c.length), 0);
    return {
      index, parents, children, depth, topo, columns, row,
      width: PAD * 2 + Math.max(1, columns.length) * COL - (COL - NODE_W),
      height: PAD * 2 + Math.max(1, maxRows) * ROW - (ROW - NODE_H),
    };
  }

  function criticalPath(tasks, L, isOpen) {
    const anyOpen = tasks.some(isOpen);
    const use = (i) => !anyOpen || isOpen(tasks[i]);
    const len = new Array(tasks.length).fill(0);
    const prev = new Array(tasks.length).fill(-1);
    let best = -1;
    for (const i of L.topo) {
      if (!use(i)) continue;
      len[i] = 1;
      for (const p of L.parents[i]) {
        if (use(p) && len[p] + 1 > len[i]) { len[i] = len[p] + 1; prev[i] = p; }
      }
      if (best < 0 || len[i] > len[best]) best = i;
    }
    const path = [];
    for (let i = best; i >= 0; i = prev[i]) path.push(i);
    return { path: path.reverse(), open: anyOpen };
  }

  function pos(L, i) { return { x: PAD + L.depth[i] * COL, y: PAD + L.row[i] * ROW }; }

  function truncate(text, max) {
    const t = String(text || "");
    return t.length > max ? t.slice(0, max - 1) + "…" : t;
  }

  // A graph over `tasks` (objects with id, title, deps, status, percent) in `container`.
  // onSelect(taskId) is called when a node is clicked.
  function create(container, tasks, onSelect) {
    // The width is read before the SVG is in the page: reading it after forces a layout of it.
    let avail = container.clientWidth || 1000;
    const L = layout(tasks);
    let scale = 1;
    const svg = s("svg", { class: "graph", role: "img", "aria-label": "task dependency graph" });
    const defs = s("defs");
    for (const [id, cls] of [["lb-arrow", "arrow"], ["lb-arrow-critical", "arrow critical"]]) {
      defs.appendChild(s("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        s("path", { d: "M 0 0 L 10 5 L 0 10 z", class: cls })));
    }
    svg.appendChild(defs);
    const edgeLayer = s("g", { class: "edges" });
    const nodeLayer = s("g", { class: "nodes" });
    svg.append(edgeLayer, nodeLayer);

    const edges = [];       // {from, to, el}
    L.parents.forEach((ps, i) => {
      const b = pos(L, i);
      for (const p of ps) {
        const a = pos(L, p);
        const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x - 2, y2 = b.y + NODE_H / 2;
        const dx = Math.max(24, (x2 - x1) / 2);
        const el = s("path", {
          class: "edge", d: `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`,
          "marker-end": "url(#lb-arrow)", data: { from: tasks[p].id, to: tasks[i].id },
        });
        const e = { from: p, to: i, el };
        edges.push(e);
        edgeLayer.appendChild(el);
      }
    });

    // One template node, cloned per task; clicks and keys handled once, on the SVG.
    const tpl = s("g", { class: "node", tabindex: 0 },
      s("title"),
      s("rect", { class: "node-box", width: NODE_W, height: NODE_H, rx: 6 }),
      s("text", { class: "node-id", x: 8, y: 14 }),
      s("text", { class: "node-title", x: 8, y: 26 }),
      s("rect", { class: "node-bar-bg", x: 8, y: NODE_H - 8, width: NODE_W - 16, height: 3, rx: 1.5 }),
      s("rect", { class: "node-bar", x: 8, y: NODE_H - 8, width: 0, height: 3, rx: 1.5 }));
    const nodes = tasks.map((t, i) => {
      const { x, y } = pos(L, i);
      const g = tpl.cloneNode(true);
      g.setAttribute("transform", `translate(${x} ${y})`);
      g.dataset.task = t.id;
      const k = g.children;
      k[2].textContent = truncate(t.id, 18);
      k[3].textContent = truncate(t.title, 21);
      nodeLayer.appendChild(g);
      return { g, tip: k[0], barFill: k[5], sig: "" };
    });
    const pick = (ev) => {
      const g = ev.target.closest && ev.target.closest("g.node");
      return g && g.dataset.task;
    };
    svg.addEventListener("click", (ev) => { const id = pick(ev); if (id && onSelect) onSelect(id); });
    svg.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      const id = pick(ev);
      if (id && onSelect) { ev.preventDefault(); onSelect(id); }
    });

    container.appendChild(svg);
    let critical = new Set();
    let selected = null;

    function paintNode(i) {
      const t = tasks[i];
      const n = nodes[i];
      const sig = `${t.status}|${t.percent}|${critical.has(i)}|${selected === t.id}`;
      if (sig === n.sig) return;
      n.sig = sig;
      n.g.setAttribute("class", "node " + LB.statusClass(t.status) + (critical.has(i) ? " critical" : "") + (selected === t.id ? " selected" : ""));
      n.g.dataset.status = t.status;
      n.barFill.setAttribute("width", String(((NODE_W - 16) * Math.max(0, Math.min(100, t.percent || 0))) / 100));
      n.tip.textContent = `${t.id} — ${t.title || ""}\n${t.status}, ${t.percent || 0} %` + (critical.has(i) ? "\non the critical path" : "");
    }

    function paintEdges() {
      const onPath = new Set();
      for (let k = 1; k < current.path.length; k++) onPath.add(current.path[k - 1] + ">" + current.path[k]);
      for (const e of edges) {
        const c = onPath.has(e.from + ">" + e.to);
        if (e.critical === c) continue;
        e.critical = c;
        e.el.setAttribute("class", c ? "edge critical" : "edge");
        e.el.setAttribute("marker-end", c ? "url(#lb-arrow-critical)" : "url(#lb-arrow)");
        if (c) edgeLayer.appendChild(e.el); // on top
      }
    }

    let current = { path: [], open: true };
    function recompute() {
      current = criticalPath(tasks, L, (t) => !LB.COMPLETE.has(t.status));
      critical = new Set(current.path);
      for (let i = 0; i < tasks.length; i++) paintNode(i);
      paintEdges();
      return api.critical();
    }

    function setScale(k) {
      scale = Math.max(0.15, Math.min(2, k));
      svg.setAttribute("viewBox", `0 0 ${L.width} ${L.height}`);
      svg.setAttribute("width", String(Math.round(L.width * scale)));
      svg.setAttribute("height", String(Math.round(L.height * scale)));
    }

    function fit(measure) {
      if (measure) avail = container.clientWidth || avail;
      setScale(Math.min(1, Math.max(0.45, (avail - 4) / L.width)));
    }

    const api = {
      layout: L,
      update(taskId) {
        const i = L.index.get(taskId);
        if (i === undefined) return;
        paintNode(i);
      },
      recompute,
      critical() { return { ids: current.path.map((i) => tasks[i].id), open: current.open }; },
      select(taskId) {
        const old = selected;
        selected = taskId || null;
        for (const id of [old, selected]) if (id) api.update(id);
        if (selected) {
          const i = L.index.get(selected);
          if (i !== undefined) {
            const { x, y } = pos(L, i);
            const left = x * scale - container.clientWidth / 2, top = y * scale - container.clientHeight / 2;
            container.scrollTo({ left: Math.max(0, left), top: Math.max(0, top), behavior: "smooth" });
          }
        }
      },
      fit: () => fit(true),
      zoom(f) { setScale(scale * f); },
      size: () => ({ width: L.width, height: L.height, columns: L.columns.length }),
    };
    fit(false);
    recompute();
    return api;
  }

  return { create, layout, criticalPath };
})();
