// codex-otel view: polls /api/state (small: the header, each conversation's summary, the session's
// charts) and, for the conversation shown, /api/conversation with the turns it has open and the
// version it has, so a poll moves only what changed. Every value is put on the page as text
// (textContent), never as markup: what was exported is what is shown, a redacted prompt included.
"use strict";

const POLL_MS = 1000;
const LOADING_POLL_MS = 250; // while a file is read: its progress, and its end, seen sooner
const DEFAULT_OPEN_ERROR_TURNS = 1;

let state = null;
let version = "";
let selected = null;
let conversation = null;     // the shown conversation's turns (headers) and charts
let conversationVersion = -1;
let conversationId = null;
const bodies = new Map();    // turn key -> {events, spans, hidden_events}
const userOpen = new Map();  // turn key -> true/false, as the user toggled it
let filter = { errors: false, tool: "", model: "", q: "" };
let detail = null;           // the record in the detail panel

function filterQuery() {
  const params = new URLSearchParams();
  if (filter.errors) params.set("errors", "1");
  if (filter.tool) params.set("tool", filter.tool);
  if (filter.model) params.set("model", filter.model);
  if (filter.q) params.set("q", filter.q);
  return params;
}

async function getJson(path, params) {
  const response = await fetch(`${path}?${params}`, { cache: "no-store" });
  if (response.status === 404) return null;
  if (!response.ok) throw new ViewerError((await response.text()).trim() || `${path}: ${response.status}`);
  return response.json();
}

// The viewer answered, with a failure (it keeps serving: the next poll asks anew).
class ViewerError extends Error {}

// -- header -----------------------------------------------------------------------------

function renderHeader() {
  const sources = clear(document.getElementById("sources"));
  for (const source of state.sources) sources.appendChild(el("li", {}, source));
  const notes = clear(document.getElementById("notes"));
  for (const note of state.notes) notes.appendChild(el("li", {}, note));
  const progress = clear(document.getElementById("progress"));
  for (const [path, [done, size]] of Object.entries(state.progress)) {
    if (done >= size) continue;
    const item = el("li", { "data-path": path }, `reading ${path}: ${mib(done)} of ${mib(size)} MiB `);
    item.appendChild(el("progress", { max: String(size), value: String(done) }));
    progress.appendChild(item);
  }
  const bad = Object.values(state.bad_lines).reduce((a, b) => a + b, 0);
  document.getElementById("bad-lines").textContent = bad ? `${plural(bad, "bad line")} skipped` : "";
  const limits = state.limits, dropped = state.dropped, counts = state.counts;
  document.getElementById("limits").textContent =
    `Memory cap: the newest ${limits.max_events.toLocaleString()} events and ` +
    `${limits.max_spans.toLocaleString()} spans, ${limits.max_series.toLocaleString()} metric series; ` +
    `values longer than ${limits.max_value_chars} characters are cut. Holding ${counts.events} events, ` +
    `${counts.series} metric series, ${counts.spans} spans; dropped so far: ${dropped.events} events, ` +
    `${dropped.spans} spans, ${dropped.metric_points} metric points of series past the cap.`;
  fillSelect("tool-filter", state.facets.tools, filter.tool);
  fillSelect("model-filter", state.facets.models, filter.model);
  const active = filter.errors || filter.tool || filter.model || filter.q;
  document.getElementById("filter-note").textContent = active
    ? `filtered: ${plural(state.conversations.length, "conversation")} match; the charts show what matches`
    : "";
}

function fillSelect(id, values, current) {
  const select = document.getElementById(id);
  const wanted = ["", ...values];
  const have = [...select.options].map((o) => o.value);
  if (wanted.length === have.length && wanted.every((v, i) => v === have[i])) return;
  clear(select);
  for (const value of wanted) select.appendChild(el("option", { value }, value || "any"));
  select.value = current;
}

// -- conversations ------------------------------------------------------------------------

function renderConversations() {
  const list = clear(document.getElementById("conversations"));
  document.getElementById("empty").hidden = state.conversations.length > 0;
  if (!state.conversations.some((c) => c.id === selected)) {
    // The newest conversation, of those with a conversation.id if any: a stray record with
    // none (Codex sends one) must not take the page.
    const named = state.conversations.filter((c) => c.named);
    const pool = named.length ? named : state.conversations;
    const last = pool[pool.length - 1];
    selected = last ? last.id : null;
  }
  for (const summary of state.conversations) {
    const item = el("li", { "data-id": summary.id });
    if (summary.id === selected) item.classList.add("selected");
    item.appendChild(el("span", { class: "id" }, summary.id));
    item.appendChild(document.createTextNode(" "));
    if (summary.errors) item.appendChild(el("span", { class: "badge" }, plural(summary.errors, "error")));
    item.appendChild(el("span", { class: "meta" },
      `${summary.model || ""} · ${summary.turns} turns · ${summary.events} events · ${clock(summary.start)}`));
    item.addEventListener("click", () => { select(summary.id); });
    list.appendChild(item);
  }
}

function select(id) {
  selected = id;
  forgetConversation();
  renderConversations();
  refresh();
}

function forgetConversation() {
  conversation = null;
  conversationId = null;
  conversationVersion = -1;
  bodies.clear();
}

function isOpen(turn, index, turns) {
  if (userOpen.has(turn.key)) return userOpen.get(turn.key);
  if (index === turns.length - 1) return true;
  const failing = turns.filter((t) => t.errors).slice(-DEFAULT_OPEN_ERROR_TURNS);
  return failing.includes(turn);
}

// A turn's event list longer than this opens with its failures and its first and last few
// events, and a row standing for the rest, until it is clicked.
const LONG_EVENT_LIST = 60;
const EVENTS_SHOWN = 10;
const listsOpen = new Set();  // turn keys whose whole event list the user asked for

function listShows(turn, events, i) {
  if (events.length <= LONG_EVENT_LIST || listsOpen.has(turn.key)) return true;
  return i < EVENTS_SHOWN || i >= events.length - EVENTS_SHOWN || events[i].error;
}

function renderTurnBody(section, turn, body) {
  for (const node of [...section.querySelectorAll(".turn-body")]) node.remove();
  const holder = el("div", { class: "turn-body" });
  section.appendChild(holder);
  const rerender = () => renderTurnBody(section, turn, body);
  const axis = turnAxis(turn, body);
  if (body.events.length || body.spans.length) holder.appendChild(axisControls(turn, axis, rerender));
  if (body.events.length) {
    const timeline = drawTimeline(turn, body, axis);
    wheelZoom(timeline, turn, axis, rerender);
    holder.appendChild(timeline);
  }
  if (body.spans.length) {
    const waterfall = drawWaterfall(turn, body, axis, rerender);
    wheelZoom(waterfall, turn, axis, rerender);
    holder.appendChild(waterfall);
  }
  const list = el("ol", { class: "events" });
  const more = (count) => {
    const item = el("li", { class: "more-events", "data-more": count, tabindex: "0" },
      `… ${plural(count, "more event")} (show)`);
    item.addEventListener("click", () => { listsOpen.add(turn.key); rerender(); });
    list.appendChild(item);
  };
  let hidden = 0;
  body.events.forEach((event, i) => {
    if (!listShows(turn, body.events, i)) { hidden++; return; }
    if (hidden) more(hidden);
    hidden = 0;
    // Numbered by its place in the turn, rows folded away or not.
    const item = el("li", { "data-name": event.name, "data-seq": event.seq, tabindex: "0", value: i + 1 });
    if (event.error) item.classList.add("error");
    item.appendChild(el("span", { class: "at" }, `+${fmt(millis(event.time, turn.start))} ms`));
    item.appendChild(el("span", { class: "name" }, event.name));
    item.appendChild(document.createTextNode(" " + eventSummary(event)));
    item.addEventListener("click", () => showDetail("event", event.seq));
    list.appendChild(item);
  });
  if (hidden) more(hidden);
  holder.appendChild(list);
  if (body.hidden_events) {
    holder.appendChild(el("p", { class: "hint" },
      `${body.hidden_events} more events of this turn are not shown (its failures and newest ` +
      `${body.events.length} are); the search and filters narrow it.`));
  }
}

function renderTurn(turn, index, turns) {
  const open = isOpen(turn, index, turns);
  const section = el("section", { class: "turn", "data-turn": turn.index, "data-key": turn.key });
  if (turn.errors) section.classList.add("has-errors");
  if (open) section.classList.add("open");
  const heading = el("h3", { class: "turn-head", tabindex: "0" });
  heading.appendChild(el("span", { class: "fold-turn" }, open ? "▾ " : "▸ "));
  heading.appendChild(document.createTextNode(
    turn.prompt === null ? `Turn ${turn.index}: before the first prompt` : `Turn ${turn.index}: `));
  if (turn.prompt !== null) heading.appendChild(el("span", { class: "prompt" }, short(turn.prompt, 200)));
  heading.addEventListener("click", () => toggleTurn(turn, !open));
  section.appendChild(heading);
  const t = turn.tokens;
  section.appendChild(el("div", { class: "summary" },
    `${turn.event_count} events · ${turn.span_count} spans · ${fmt(millis(turn.end, turn.start))} ms · tokens in ${t.input} ` +
    `(cached ${t.cached}), out ${t.output} (reasoning ${t.reasoning})` + (turn.errors ? ` · ${plural(turn.errors, "error")}` : "")));
  const body = bodies.get(turn.key);
  if (open && body) renderTurnBody(section, turn, body);
  return section;
}

async function toggleTurn(turn, open) {
  userOpen.set(turn.key, open);
  if (open && !bodies.has(turn.key)) {
    await fetchConversation(conversation ? conversation.version : -1, [], [turn.key]);
  }
  renderMain();
}

// -- the detail panel ---------------------------------------------------------------------

async function showDetail(kind, id) {
  const params = new URLSearchParams({ kind, id: String(id) });
  const item = await getJson("/api/item", params);
  const panel = document.getElementById("detail");
  panel.hidden = false;
  detail = item;
  document.getElementById("detail-title").textContent = item
    ? `${kind === "span" ? "Span" : "Event"} ${item.name}` : "no longer held (dropped for the cap)";
  const rows = clear(document.querySelector("#detail-attributes tbody"));
  document.getElementById("detail-meta").textContent = !item ? "" : kind === "span"
    ? `${fmt(millis(item.end, item.start))} ms · status ${item.error ? "ERROR" : "ok"} ${item.status_message || ""} · ` +
      `scope ${item.scope || "?"} · trace ${item.trace_id} · span ${item.span_id}`
    : `${clock(item.time)} · ${item.error ? "failed · " : ""}scope ${item.scope || "?"} · trace ${item.trace_id || "-"} · span ${item.span_id || "-"}`;
  if (!item) return;
  for (const key of Object.keys(item.attributes).sort()) {
    const value = item.attributes[key];
    const row = el("tr", { "data-key": key });
    row.appendChild(el("th", {}, key));
    const cell = el("td");
    cell.appendChild(el("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 1)));
    row.appendChild(cell);
    rows.appendChild(row);
  }
  document.getElementById("detail-json").value = JSON.stringify(item, null, 1);
}

async function copyDetail() {
  const text = document.getElementById("detail-json").value;
  const button = document.getElementById("detail-copy");
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (error) {
    // No clipboard permission: the JSON is shown selected, for Ctrl-C.
    const area = document.getElementById("detail-json");
    area.hidden = false;
    area.select();
    button.textContent = "Selected: Ctrl-C copies";
  }
  setTimeout(() => { button.textContent = "Copy JSON"; }, 2000);
}

// -- the whole page -----------------------------------------------------------------------

function renderMain() {
  const summary = state.conversations.find((c) => c.id === selected) || null;
  document.getElementById("conversation-title").textContent = summary
    ? `Conversation ${summary.id}` + (summary.model ? ` · ${summary.model}` : "") : "";
  document.getElementById("conv-charts").hidden = !conversation;
  const turns = clear(document.getElementById("turns"));
  if (conversation) {
    drawTokens(conversation.turns);
    drawDistribution("conv-charts", "api_latency", conversation.charts.api_latency);
    drawDistribution("conv-charts", "sse_wait", conversation.charts.sse_wait);
    drawTools("conv-charts", conversation.charts.tools, {});
    conversation.turns.forEach((turn, i) => turns.appendChild(renderTurn(turn, i, conversation.turns)));
  }
  document.getElementById("session-title").textContent =
    `Whole session: ${plural(state.conversations.length, "conversation")}`;
  drawDistribution("session-charts", "api_latency", state.charts.api_latency);
  drawDistribution("session-charts", "sse_wait", state.charts.sse_wait);
  drawTools("session-charts", state.charts.tools, state.charts.tool_metrics);
  document.body.dataset.version = String(state.version);
}

// The turns changed since `since` (with the bodies of the open `keys`), and the turns of
// `whole` whatever their version (just opened: their bodies are not held yet).
async function fetchConversation(since, keys, whole = []) {
  const params = filterQuery();
  params.set("id", selected);
  params.set("since", String(since));
  for (const key of keys) params.append("open", key);
  for (const key of whole) params.append("whole", key);
  const data = await getJson("/api/conversation", params);
  if (data === null) { forgetConversation(); return; }
  // A turn unchanged since `since` comes as its key and number: its header is the one held.
  const held = new Map((conversation && conversationId === data.id ? conversation.turns : []).map((t) => [t.key, t]));
  if (data.turns.some((t) => !("start" in t) && !held.has(t.key))) {
    if (since !== -1) await fetchConversation(-1, [...keys, ...whole]);  // not held: all anew
    return;
  }
  data.turns = data.turns.map((t) => ("start" in t ? t : { ...held.get(t.key), index: t.index }));
  const known = new Set(data.turns.map((t) => t.key));
  for (const key of [...bodies.keys()]) if (!known.has(key)) bodies.delete(key);
  for (const turn of data.turns) {
    if (turn.events) bodies.set(turn.key, { events: turn.events, spans: turn.spans, hidden_events: turn.hidden_events });
  }
  conversation = data;
  conversationId = data.id;
}

// The shown conversation brought up to date: its headers, and the open turns that changed
// (a turn opened since, or new, is fetched whole).
async function refresh() {
  const summary = state && state.conversations.find((c) => c.id === selected);
  if (!summary) { forgetConversation(); renderMain(); return; }
  const fresh = conversationId !== selected || !conversation;
  if (fresh) {
    forgetConversation();
    await fetchConversation(-1, []);
  } else if (summary.version <= conversationVersion) {
    renderMain();
    return;
  }
  if (conversation) {
    const turns = conversation.turns;
    const open = turns.filter((t, i) => isOpen(t, i, turns)).map((t) => t.key);
    const have = open.filter((key) => bodies.has(key));
    if (!fresh) await fetchConversation(conversationVersion, have);
    // Open now (a new last turn is), of the turns as they are now: bodies not held yet.
    const now = conversation ? conversation.turns : [];
    const missing = now.filter((t, i) => isOpen(t, i, now) && !bodies.has(t.key)).map((t) => t.key);
    if (missing.length) await fetchConversation(conversation.version, [], missing);
  }
  conversationVersion = conversation ? conversation.version : -1;
  renderMain();
}

async function poll() {
  const live = document.getElementById("live");
  try {
    const params = filterQuery();
    params.set("since", version);
    const data = await getJson("/api/state", params);
    if (!data.unchanged) {
      state = data;
      version = String(data.version);
      renderHeader();
      renderConversations();
      await refresh();
    }
    if (state && state.failure) {
      live.textContent = `not live: ${state.failure}`;
      live.classList.add("stale");
    } else {
      live.textContent = `live · checked ${new Date().toLocaleTimeString([], { hour12: false })}`;
      live.classList.remove("stale");
    }
  } catch (error) {
    live.textContent = error instanceof ViewerError ? `${error.message}; retrying…` : "viewer stopped? retrying…";
    live.classList.add("stale");
  }
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, reading() ? LOADING_POLL_MS : POLL_MS);
}

function reading() {
  return !!state && Object.values(state.progress || {}).some(([done, size]) => done < size);
}

let pollTimer = null;
let searchTimer = null;

function setFilter(change) {
  filter = { ...filter, ...change };
  version = "";
  forgetConversation();
  poll();
}

document.getElementById("search").addEventListener("input", (event) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setFilter({ q: event.target.value.trim() }), 300);
});
document.getElementById("errors-only").addEventListener("change", (event) => setFilter({ errors: event.target.checked }));
document.getElementById("tool-filter").addEventListener("change", (event) => setFilter({ tool: event.target.value }));
document.getElementById("model-filter").addEventListener("change", (event) => setFilter({ model: event.target.value }));
document.getElementById("detail-close").addEventListener("click", () => { document.getElementById("detail").hidden = true; });
document.getElementById("detail-copy").addEventListener("click", copyDetail);

poll();
