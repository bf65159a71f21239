// codex-otel view, drawing: elements made with text content only (never markup), and the
// charts (bars of groups of series, in SVG).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = {
  input: "#1565c0", cached: "#90caf9", output: "#ef6c00", reasoning: "#6a1b9a",
  events: "#1565c0", metrics: "#ffb300", ok: "#2e7d32", failed: "#c62828",
};
const MAX_TOOLS = 8;


function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

function short(value, max) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

function clock(nanos) {
  if (!Number(nanos)) return "no time";  // a record that carried none
  const date = new Date(Number(BigInt(nanos) / 1000000n));
  return date.toLocaleTimeString([], { hour12: false }) + "." + String(date.getMilliseconds()).padStart(3, "0");
}

function mib(bytes) { return (bytes / 1048576).toFixed(1); }

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

function millis(nanos, origin) { return (nanos - origin) / 1e6; }

function num(value) { const n = Number(value); return Number.isFinite(n) ? n : 0; }

function fmt(n) {
  if (Math.abs(n) >= 10000) return (n / 1000).toFixed(0) + "k";
  if (Math.abs(n) >= 1000) return (n / 1000).toFixed(1) + "k";
  return String(Math.round(n * 10) / 10);
}

// -- charts -------------------------------------------------------------------------------

const CHART = { width: 480, height: 190, left: 44, right: 8, top: 20, bottom: 36 };

function axes(root, max, label) {
  const { width, height, left, right, top, bottom } = CHART;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.appendChild(svg("line", { x1: left, y1: height - bottom, x2: width - right, y2: height - bottom, stroke: "#999" }));
  root.appendChild(svg("line", { x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#999" }));
  for (const fraction of [0, 0.5, 1]) {
    const y = height - bottom - fraction * (height - top - bottom);
    root.appendChild(svg("text", { x: left - 4, y: y + 4, "text-anchor": "end" }, fmt(max * fraction)));
  }
  root.appendChild(svg("text", { x: 2, y: height - 3, class: "source" }, label));
}

function legend(root, names) {
  let x = CHART.width - CHART.right;
  for (const name of [...names].reverse()) {
    x -= 8 + name.length * 6 + 14;
    root.appendChild(svg("rect", { x, y: 3, width: 10, height: 10, fill: COLORS[name] }));
    root.appendChild(svg("text", { x: x + 13, y: 12 }, name));
  }
}

function bars(root, groups, series, max) {
  // groups: [{label, values: {series: n}}]; one cluster of bars per group.
  const { width, height, left, right, top, bottom } = CHART;
  const plot = height - top - bottom;
  const slot = (width - left - right) / Math.max(groups.length, 1);
  const bar = Math.max(2, Math.min(22, (slot - 6) / series.length));
  // Labels that would overlap are skipped: one every so many slots, as wide as the widest
  // label (11px text: under 6.5 units a character) and a gap.
  const widest = Math.max(0, ...groups.map((group) => String(group.label).length)) * 6.5 + 6;
  const every = Math.max(1, Math.ceil(widest / slot));
  groups.forEach((group, index) => {
    const x0 = left + index * slot + (slot - bar * series.length) / 2;
    series.forEach((name, k) => {
      const value = group.values[name] || 0;
      const h = max > 0 ? (value / max) * plot : 0;
      const rect = svg("rect", { x: x0 + k * bar, y: height - bottom - h, width: bar - 1, height: h,
        fill: COLORS[name], class: "bar", "data-series": name, "data-value": value });
      rect.appendChild(svg("title", {}, `${group.label} ${name}: ${value}`));
      root.appendChild(rect);
    });
    if (index % every === 0) {
      root.appendChild(svg("text", { x: left + index * slot + slot / 2, y: height - bottom + 13,
        "text-anchor": "middle", class: "group-label" }, group.label));
    }
  });
}

function chart(section, name) {
  return clear(document.querySelector(`#${section} figure[data-chart="${name}"] svg`));
}

function drawTokens(turns) {
  const root = chart("conv-charts", "tokens");
  const series = ["input", "cached", "output", "reasoning"];
  const shown = turns.filter((t) => t.prompt !== null || t.tokens.input);
  const groups = shown.map((turn) => ({ label: `turn ${turn.index}`, values: turn.tokens }));
  const max = Math.max(1, ...groups.flatMap((g) => series.map((s) => g.values[s] || 0)));
  axes(root, max, "from the events of this conversation (response.completed usage)");
  legend(root, series);
  bars(root, groups, series, max);
}

function drawDistribution(section, name, data) {
  const root = chart(section, name);
  const bounds = data.bounds;
  const counts = data.events, metrics = data.metrics;
  let last = 0;
  counts.forEach((n, i) => { if (n || (metrics && metrics[i])) last = i; });
  const groups = [];
  for (let i = 0; i <= Math.min(last + 1, counts.length - 1); i++) {
    const label = i < bounds.length ? `≤${fmt(bounds[i])}` : `>${fmt(bounds[bounds.length - 1])}`;
    groups.push({ label, values: { events: counts[i], metrics: metrics ? metrics[i] : 0 } });
  }
  const series = metrics ? ["events", "metrics"] : ["events"];
  const max = Math.max(1, ...groups.flatMap((g) => series.map((s) => g.values[s])));
  axes(root, max, metrics ? "count per bucket: events, and the metric's histogram" : "count per bucket, from the events");
  legend(root, series);
  bars(root, groups, series, max);
}

function drawTools(section, tools, toolMetrics) {
  const root = chart(section, "tools");
  const { width, height, left, right, top } = CHART;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  // Past MAX_TOOLS, the tools with the most failures, then calls (the rest said, not drawn).
  const calls = (n) => tools[n].ok + tools[n].failed;
  const all = Object.keys(tools);
  const names = all.sort((a, b) => tools[b].failed - tools[a].failed || calls(b) - calls(a))
    .slice(0, MAX_TOOLS).sort();
  const hasMetrics = Object.keys(toolMetrics).length > 0;
  const rest = all.length - names.length;
  root.appendChild(svg("text", { x: 2, y: height - 3, class: "source" },
    (hasMetrics ? "bars: events; in brackets: calls counted by the metrics" : "from the events") +
    (rest ? ` · ${plural(rest, "more tool")} not drawn (the tool filter shows one)` : "")));
  legend(root, ["ok", "failed"]);
  const max = Math.max(1, ...names.map((n) => tools[n].ok + tools[n].failed));
  // The rows end above the source line under them (eight rows used to run into it).
  const row = Math.min(28, (height - top - 6 - 20) / Math.max(names.length, 1));
  const labelWidth = 90, plot = width - left - right - labelWidth - 150;
  names.forEach((name, i) => {
    const tool = tools[name], y = top + 6 + i * row, calls = tool.ok + tool.failed;
    root.appendChild(svg("text", { x: 4, y: y + row / 2 + 4 }, short(name, 14)));
    let x = labelWidth;
    for (const part of ["ok", "failed"]) {
      const w = (tool[part] / max) * plot;
      const rect = svg("rect", { x, y, width: w, height: row - 6, fill: COLORS[part], class: "bar",
        "data-series": part, "data-tool": name, "data-value": tool[part] });
      rect.appendChild(svg("title", {}, `${name} ${part}: ${tool[part]}`));
      root.appendChild(rect);
      x += w;
    }
    const mean = calls ? tool.duration_ms / calls : 0;
    const metric = toolMetrics[name];
    const extra = metric ? ` [${metric.ok + metric.failed}]` : "";
    root.appendChild(svg("text", { x: x + 6, y: y + row / 2 + 2 },
      `${tool.ok} ok, ${tool.failed} failed, mean ${fmt(mean)} ms${extra}`));
  });
}
