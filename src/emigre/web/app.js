/* emigre dashboard: one view state (in the URL), panels that read it, data from the local /api. */
"use strict";

const COLORS = { band90: "#c6dbef", band50: "#6baed6", median: "#08519c", evidence: "#d94801", date: "#636363" };
const REASONS = ["#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];
const DEFS = {
  departures: ["Departures per week", "Flow: people crossing out of Russia to emigrate, summed per week in each run (not border crossings: one person may cross many times)."],
  abroad: ["People abroad", "Stock: people who left after 24 Feb 2022 and are outside Russia at the end of the day (they have not come back to stay)."],
  departed_cum: ["People who left since 24 February 2022", "Cumulative: everyone who has left Russia since the start, counted once, whether or not they later came back."],
  returned_cum: ["People who came back to stay", "Cumulative: people who left and later re-entered Russia to stay (a visit or a border run is not a return; those who left again are not counted)."],
};
const EVIDENCE_KINDS = { departed_cum: ["cumulative_outflow_total"], abroad: ["stock_abroad"] };

const state = { view: "chart", date: null, metric: "departures", by: "", country: null, from: null };
let meta = null, dates = [], evidence = [], mapObj = null, mapData = null, playTimer = null;
const views = {};

const $ = (id) => document.getElementById(id);
const fmt = (x) => (x === null || x === undefined || !isFinite(x)) ? "-" : Math.round(x).toLocaleString("en-GB");
const span = (a, b) => `${fmt(a)} - ${fmt(b)}`;

async function api(path) {
  const r = await fetch(path);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.detail || `${r.status} ${path}`);
  return body;
}

/* ---------------------------------------------------------------- URL state */
function readUrl() {
  const q = new URLSearchParams(location.search);
  for (const k of Object.keys(state)) if (q.has(k)) state[k] = q.get(k);
  if (!DEFS[state.metric]) state.metric = "departures";
}
function writeUrl() {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v) q.set(k, v);
  history.replaceState(null, "", "?" + q.toString());
}

/* ---------------------------------------------------------------- tabs (M1) */
function setupTabs() {
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    state.view = tab.id.replace("tab-", "");
    writeUrl();
    if (state.view === "map") showMap();
  };
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => select(t, false));
    t.addEventListener("keydown", (e) => {
      const d = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (d) { e.preventDefault(); select(tabs[(i + d + tabs.length) % tabs.length], true); }
      if (e.key === "Home") { e.preventDefault(); select(tabs[0], true); }
      if (e.key === "End") { e.preventDefault(); select(tabs[tabs.length - 1], true); }
    });
  });
  const start = $("tab-" + state.view) || tabs[0];
  select(start, false);
}

/* ---------------------------------------------------------------- timeline (M3) */
function setupTimeline() {
  const slider = $("date");
  slider.max = String(dates.length - 1);
  let i = dates.indexOf(state.date);
  if (i < 0) i = dates.length - 1;
  slider.value = String(i);
  const set = (j) => {
    j = Math.max(0, Math.min(dates.length - 1, j));
    slider.value = String(j);
    state.date = dates[j];
    onDate();
  };
  slider.addEventListener("input", () => set(+slider.value));
  $("step-back").addEventListener("click", () => set(+slider.value - 1));
  $("step-fwd").addEventListener("click", () => set(+slider.value + 1));
  $("play").addEventListener("click", () => {
    const b = $("play");
    if (playTimer) { clearInterval(playTimer); playTimer = null; b.textContent = "Play"; b.setAttribute("aria-pressed", "false"); return; }
    if (+slider.value >= dates.length - 1) set(0);
    b.textContent = "Pause"; b.setAttribute("aria-pressed", "true");
    playTimer = setInterval(() => {
      if (+slider.value >= dates.length - 1) { $("play").click(); return; }
      set(+slider.value + 1);
    }, 400);
  });
  state.date = dates[i];
}

let dateTimer = null;
function onDate() {
  $("date-out").textContent = state.date;
  writeUrl();
  for (const v of Object.values(views)) if (v && v.signal) { try { v.signal("now", state.date).run(); } catch (e) { /* chart without the signal */ } }
  clearTimeout(dateTimer);
  dateTimer = setTimeout(() => { headline(); refreshPlaces(); }, 150);
}

/* ---------------------------------------------------------------- headline cards (M8) */
async function headline() {
  const at = state.date;
  const [dep, abr, ret] = await Promise.all(["departed", "abroad", "returned"].map((q) => api(`/api/estimate?quantity=${q}&at=${at}`)));
  const card = (title, kind, e, def) => `<div class="card"><h3>${title}</h3><p class="kind">${kind}</p>
    <p class="big">${fmt(e.median)}</p><p>90% interval ${span(e.lo90, e.hi90)}</p><p class="def">${def}</p></div>`;
  $("headline").innerHTML =
    card(`Left by ${at}`, "cumulative, people", dep[0], "Everyone who left since 24 Feb 2022, counted once.") +
    card(`Abroad on ${at}`, "stock, people", abr[0], "Left and not (yet) back to stay.") +
    card(`Came back by ${at}`, "cumulative, people", ret[0], "Returned to Russia to stay.");
}

/* ---------------------------------------------------------------- charts (M4, M5, M6) */
function fanLayers(x, title) {
  return [
    { mark: { type: "area", opacity: 0.9, color: COLORS.band90 }, encoding: { x, y: { field: "q05", type: "quantitative", title }, y2: { field: "q95" } } },
    { mark: { type: "area", opacity: 0.9, color: COLORS.band50 }, encoding: { x, y: { field: "q25", type: "quantitative" }, y2: { field: "q75" } } },
    { mark: { type: "line", color: COLORS.median, strokeWidth: 2 }, encoding: { x, y: { field: "median", type: "quantitative" },
      tooltip: [{ field: "date", type: "temporal", title: "week of" }, { field: "median", format: ",.0f" }, { field: "q25", title: "50% from", format: ",.0f" }, { field: "q75", title: "50% to", format: ",.0f" }, { field: "q05", title: "90% from", format: ",.0f" }, { field: "q95", title: "90% to", format: ",.0f" }] } },
  ];
}

function nowRule() {
  return { data: { values: [{}] }, mark: { type: "rule", aria: false, color: COLORS.date, strokeDash: [4, 3] },
    encoding: { x: { datum: { expr: "toDate(now)" }, type: "temporal" } } };
}

function eventRules() {
  const ev = (meta.events || []).filter((e) => e.start).map((e) => ({ date: e.start, name: e.name }));
  return [
    { data: { values: ev }, mark: { type: "rule", aria: false, color: "#999", strokeWidth: 1 }, encoding: { x: { field: "date", type: "temporal" }, tooltip: [{ field: "name", title: "push" }, { field: "date", type: "temporal" }] } },
    { data: { values: ev }, mark: { type: "text", aria: false, align: "left", dx: 3, dy: -4, fontSize: 11, color: "#444", baseline: "top" },
      encoding: { x: { field: "date", type: "temporal" }, y: { value: 0 }, text: { field: "name" } } },
  ];
}

async function embed(id, spec, desc) {
  spec.$schema = "https://vega.github.io/schema/vega-lite/v5.json";
  spec.width = "container";
  spec.autosize = { type: "fit-x", contains: "padding" };
  spec.params = (spec.params || []).concat([{ name: "now", value: state.date }]);
  spec.config = { axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 }, view: { stroke: null } };
  spec.description = desc;
  const res = await vegaEmbed("#" + id, spec, { actions: false, renderer: "svg" });
  views[id] = res.view;
  const svg = document.querySelector(`#${id} svg`);
  if (svg) { svg.setAttribute("role", "img"); svg.setAttribute("aria-label", desc); }
  return res.view;
}

async function mainChart() {
  const [title, def] = DEFS[state.metric];
  const step = "week";
  const x = { field: "date", type: "temporal", title: null };
  let layers, desc;
  if (state.by) {
    const cats = meta.breakdowns[state.by];
    const groupsMeasure = state.metric === "abroad" ? "abroad" : "departures";
    const all = await Promise.all(cats.map((c) => api(`/api/series?measure=${groupsMeasure}&group=${state.by}=${c.key}&step=${step}`)
      .then((s) => s.rows.map((r) => ({ ...r, category: c.label }))).catch(() => [])));
    const rows = all.flat();
    layers = [{ data: { values: rows }, mark: { type: "area" }, encoding: { x,
      y: { field: "median", type: "quantitative", stack: "zero", title: `${groupsMeasure === "abroad" ? "people abroad" : "departures per week"} (median)` },
      color: { field: "category", type: "nominal", scale: { range: REASONS }, title: DIMENSION(state.by) },
      tooltip: [{ field: "category" }, { field: "date", type: "temporal" }, { field: "median", format: ",.0f" }] } }];
    desc = `${groupsMeasure === "abroad" ? "People abroad" : "Departures per week"} split ${DIMENSION(state.by).toLowerCase()}, stacked medians over ${meta.runs} runs.`;
    $("chart-title").textContent = `${groupsMeasure === "abroad" ? "People abroad" : "Departures per week"} by ${DIMENSION(state.by).toLowerCase()}`;
  } else {
    const s = await api(`/api/series?measure=${state.metric}&step=${step}`);
    layers = [{ data: { values: s.rows }, layer: fanLayers(x, `${title.charAt(0).toLowerCase() + title.slice(1)} (persons)`) }];
    const ev = evidenceMarks(EVIDENCE_KINDS[state.metric] || [], "ALL");
    if (ev.length) layers.push(...markLayers(ev, x));
    const last = s.rows[s.rows.length - 1] || {};
    desc = `${title}: median and 50% and 90% bands over ${meta.runs} runs, per week, ${meta.start} to ${meta.end}; ` +
      `at the end the median is ${fmt(last.median)} (90% interval ${span(last.q05, last.q95)}).` +
      (ev.length ? ` ${ev.length} published figures are drawn as orange diamonds; click one for its source.` : "");
    $("chart-title").textContent = title;
  }
  layers.push(...eventRules(), nowRule());
  $("chart-definition").textContent = def;
  $("fan-desc").textContent = desc;
  const view = await embed("fan", { height: 280, layer: layers }, desc);
  view.addEventListener("click", (e, item) => { if (item && item.datum && item.datum.id) { showSource(item.datum.id); } });
  downloads();
}

function evidenceMarks(kinds, place) {  // M6: each sourced figure as a point (value), a bar (range) or a bound
  return evidence.filter((e) => kinds.includes(e.kind) && e.destination === place && e.period_end >= meta.start && e.period_end <= meta.end)
    .map((e) => ({ id: e.id, date: e.period_end, value: e.quantity ?? ((e.low + e.high) / 2), low: e.low ?? e.quantity,
      high: e.high ?? e.quantity, bound: e.bound || "point", publisher: e.publisher }));
}

function markLayers(ev, x) {
  return [
    { data: { values: ev }, mark: { type: "rule", aria: false, color: COLORS.evidence, strokeWidth: 2 }, encoding: { x, y: { field: "low", type: "quantitative" }, y2: { field: "high" } } },
    { data: { values: ev }, mark: { type: "point", shape: "diamond", filled: true, size: 70, color: COLORS.evidence, cursor: "pointer" },
      encoding: { x, y: { field: "value", type: "quantitative" },
        tooltip: [{ field: "id", title: "source" }, { field: "publisher" }, { field: "value", title: "figure", format: ",.0f" }, { field: "bound" }, { field: "date", type: "temporal", title: "period ends" }] } },
  ];
}

const DIMENSION = (d) => ({ reason: "By reason", age: "By age", education: "By education" }[d] || d);

async function countryChart() {
  if (!state.country) return;
  const s = await api(`/api/series?measure=present&place=${state.country}&step=week`);
  const name = (meta.countries.find((c) => c.iso3 === state.country) || {}).name || state.country;
  const last = s.rows[s.rows.length - 1] || {};
  const desc = `People present in ${name} (stock): weekly median with 50% and 90% bands over ${meta.runs} runs; at the end ${fmt(last.median)} (90% interval ${span(last.q05, last.q95)}).`;
  $("country-desc").textContent = desc;
  const x = { field: "date", type: "temporal", title: null };
  const layers = [{ data: { values: s.rows }, layer: fanLayers(x, "people present") }];
  const ev = evidenceMarks(["stock_in_destination"], state.country);
  if (ev.length) layers.push(...markLayers(ev, x));
  layers.push(nowRule());
  const fullDesc = desc + (ev.length ? ` ${ev.length} published figures for ${name} are drawn as orange diamonds.` : "");
  $("country-desc").textContent = fullDesc;
  const view = await embed("country-fan", { height: 220, title: { text: `People present in ${name}`, fontSize: 13 }, layer: layers }, fullDesc);
  view.addEventListener("click", (e, item) => { if (item && item.datum && item.datum.id) showSource(item.datum.id); });
}

function downloads() {
  const m = state.by ? null : state.metric;
  const q = `measure=${m || "departures"}&place=ALL`;
  $("dl-csv").href = `/api/download/series.csv?${q}`;
  $("dl-parquet").href = `/api/download/series.parquet?${q}`;
  const origin = location.origin;
  $("snippet").textContent = `# pandas\nimport pandas as pd\ndf = pd.read_csv("${origin}/api/download/series.csv?${q}", comment="#")\n\n` +
    `# R\ndf <- read.csv("${origin}/api/download/series.csv?${q}", comment.char = "#")`;
}

async function saveChart(type) {
  const v = views.fan;
  if (!v) return;
  const url = await v.toImageURL(type, type === "png" ? 2 : 1);
  const a = document.createElement("a");
  a.href = url; a.download = `emigre-${state.metric}.${type}`;
  document.body.appendChild(a); a.click(); a.remove();
}

/* ---------------------------------------------------------------- countries (S3) + map (M9, M10) + table */
async function refreshPlaces() {
  const from = state.from || meta.start;
  mapData = await api(`/api/map?date=${state.date}&from=${from}`);
  countryList();
  tables();
  if (mapObj) updateMap();
}

function countryList() {
  const term = $("country-search").value.trim().toLowerCase();
  const rows = mapData.countries.filter((c) => !term || c.name.toLowerCase().includes(term) || c.iso3.toLowerCase() === term);
  const top = mapData.countries.length ? mapData.countries[0].median || 1 : 1;
  $("country-list").innerHTML = rows.slice(0, 40).map((c) => `<li><button type="button" data-iso="${c.iso3}" aria-pressed="${c.iso3 === state.country}">
    <span class="bar" style="width:${Math.max(1, 100 * (c.median || 0) / top)}%"></span><span class="name">${c.name}</span><span class="val">${fmt(c.median)}</span></button></li>`).join("");
  for (const b of document.querySelectorAll("#country-list button")) {
    b.addEventListener("click", () => { state.country = b.dataset.iso; writeUrl(); countryList(); countryChart(); });
  }
}

function tables() {
  $("dest-caption").textContent = `People present on ${mapData.date} (stock, persons)`;
  $("dest-table").querySelector("tbody").innerHTML = mapData.countries.map((c) =>
    `<tr><th scope="row">${c.name} (${c.iso3})</th><td>${fmt(c.median)}</td><td>${span(c.q25, c.q75)}</td><td>${span(c.q05, c.q95)}</td></tr>`).join("");
  $("link-caption").textContent = `Border crossings out of Russia (trips, not people), ${mapData.from} to ${mapData.date}`;
  $("link-table").querySelector("tbody").innerHTML = mapData.links.slice(0, 40).map((l) =>
    `<tr><th scope="row">${l.label}</th><td>${l.mode}</td><td>${fmt(l.median)}</td><td>${span(l.q05, l.q95)}</td></tr>`).join("");
}

const MAX_CIRCLE = 500000;  // fixed scale: legends do not jump while the timeline plays
const MAX_FLOW = 800000;

function mapGeo() {
  const pts = mapData.countries.filter((c) => c.lon !== null).map((c) => ({ type: "Feature",
    geometry: { type: "Point", coordinates: [c.lon, c.lat] }, properties: { name: c.name, value: c.median || 0 } }));
  const lines = mapData.links.slice(0, 25).filter((l) => l.lon !== null && l.lon2 !== null).reverse().map((l) => ({ type: "Feature",
    geometry: { type: "LineString", coordinates: curve([l.lon, l.lat], [l.lon2, l.lat2]) }, properties: { name: l.label, value: l.median || 0 } }));
  return { pts: { type: "FeatureCollection", features: pts }, lines: { type: "FeatureCollection", features: lines } };
}

function curve(a, b) {  // a gentle arc so that flows sharing a corridor stay apart
  const out = [];
  const mx = (a[0] + b[0]) / 2 - (b[1] - a[1]) * 0.15, my = (a[1] + b[1]) / 2 + (b[0] - a[0]) * 0.15;
  for (let t = 0; t <= 1.0001; t += 0.1) {
    out.push([(1 - t) * (1 - t) * a[0] + 2 * (1 - t) * t * mx + t * t * b[0], (1 - t) * (1 - t) * a[1] + 2 * (1 - t) * t * my + t * t * b[1]]);
  }
  return out;
}

function showMap() {
  if (mapObj || !mapData) { if (mapObj) mapObj.resize(); return; }
  const g = mapGeo();
  mapObj = new maplibregl.Map({
    container: "map", center: [50, 48], zoom: 2, attributionControl: false, preserveDrawingBuffer: true,
    style: { version: 8, sources: {
      land: { type: "geojson", data: "/basemap.geojson" },
      places: { type: "geojson", data: g.pts }, flows: { type: "geojson", data: g.lines } },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#e8f1f8" } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": "#f4f1ea", "fill-outline-color": "#b8b2a6" } },
      { id: "flows", type: "line", source: "flows", paint: { "line-color": "#b35806", "line-opacity": 0.7,
        "line-width": ["interpolate", ["linear"], ["get", "value"], 0, 0.5, MAX_FLOW, 14] }, layout: { "line-cap": "round" } },
      { id: "places", type: "circle", source: "places", paint: { "circle-color": "#2166ac", "circle-opacity": 0.6, "circle-stroke-color": "#fff", "circle-stroke-width": 1,
        "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "value"]], 0, 0, Math.sqrt(MAX_CIRCLE), 30] } },
    ] },
  });
  mapObj.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false });
  for (const layer of ["places", "flows"]) {
    mapObj.on("mousemove", layer, (e) => {
      const p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setText(`${p.name}: ${fmt(p.value)} ${layer === "places" ? "present" : "crossings"}`).addTo(mapObj);
    });
    mapObj.on("mouseleave", layer, () => popup.remove());
  }
  mapObj.on("load", () => { document.getElementById("map").dataset.loaded = "1"; });
  legend();
}

function updateMap() {
  const g = mapGeo();
  const src = (n) => mapObj.getSource(n);
  if (src("places")) { src("places").setData(g.pts); src("flows").setData(g.lines); }
  $("map-desc").textContent = `On ${mapData.date}: most people present in ${mapData.countries.slice(0, 3).map((c) => `${c.name} (${fmt(c.median)})`).join(", ")}. ` +
    `Busiest exit links since ${mapData.from}: ${mapData.links.slice(0, 3).map((l) => `${l.label} (${fmt(l.median)})`).join(", ")}. The table view lists every value.`;
}

function legend() {
  const c = [20000, 100000, 500000].map((v) => `<span class="lc"><span class="dot" style="width:${2 * 30 * Math.sqrt(v / MAX_CIRCLE)}px;height:${2 * 30 * Math.sqrt(v / MAX_CIRCLE)}px"></span>${fmt(v)} present</span>`).join("");
  const f = [50000, 200000, 800000].map((v) => `<span class="lc"><span class="line" style="height:${Math.max(1, 14 * v / MAX_FLOW)}px"></span>${fmt(v)} crossings</span>`).join("");
  $("map-legend").innerHTML = `<strong>Fixed scale.</strong> ${c} ${f}`;
  updateMap();
}

/* ---------------------------------------------------------------- sources (M7) */
// parts of a predicted figure: blues for the wave, greens for permits, greys for the rest (never the evidence orange)
const PART_COLORS = { wave: "#08519c", border_runs: "#6baed6", ordinary_trips: "#9ecae1", ordinary_visitors: "#c6dbef",
  prewar_permits: "#238b45", prewar_holders: "#74c476", background_share: "#969696", prewar_encounters: "#525252",
  prewar_immigrants: "#005a32" };
const partColor = (p) => PART_COLORS[p] || "#bdbdbd";

function partsBar(parts) {  // a stacked bar of the positive parts; the text beside it says the same for readers
  const pos = parts.filter((p) => p.of_median > 0), sum = pos.reduce((a, p) => a + p.of_median, 0);
  if (!sum) return "";
  return `<span class="parts-bar" aria-hidden="true">${pos.map((p) => `<span style="width:${(100 * p.of_median / sum).toFixed(1)}%;background:${partColor(p.part)}"></span>`).join("")}</span>`;
}

function predictedCell(p, unit) {
  if (!p) return "not predicted";
  const u = unit === "percent" ? "%" : "";
  const of = p.parts.length > 1 ? `<br><small>of which: ${p.parts.map((x) => `${esc(x.label)} ${fmt(x.of_median)}${u}`).join(", ")}</small>` : "";
  return `${fmt(p.median)}${u} (${span(p.q05, p.q95)})${partsBar(p.parts)}${of}`;
}

function partsLegend() {
  const seen = [...new Set(evidence.flatMap((e) => (e.predicted ? e.predicted.parts : []).map((p) => `${p.part}|${p.label}`)))];
  $("parts-legend").innerHTML = seen.length ? "Colours: " + seen.map((k) => { const [part, label] = k.split("|");
    return `<span class="lc"><span class="swatch" aria-hidden="true" style="background:${partColor(part)}"></span>${esc(label)}</span>`; }).join(" ") : "This store has no predicted counts (written by an older emigre run).";
}

function sourcesTable() {
  const kind = $("source-kind").value;
  const rows = evidence.filter((e) => !kind || e.kind === kind);
  $("source-table").querySelector("tbody").innerHTML = rows.map((e) => {
    const fig = e.quantity !== null ? `${e.bound === "lower" ? "&gt; " : e.bound === "upper" ? "&lt; " : ""}${fmt(e.quantity)}` : span(e.low, e.high);
    const m = e.model;
    return `<tr><th scope="row"><button type="button" class="linklike" data-id="${e.id}">${e.id}</button></th><td>${fig} ${e.unit || ""}</td>
      <td>${e.destination}, ${e.period_start} to ${e.period_end}</td><td>${esc(e.publisher)}</td>
      <td>${m ? `${fmt(m.median)} (${span(m.q05, m.q95)})<br><small>${esc(m.quantity)}</small>` : "not compared"}</td><td>${m ? esc(m.verdict) : ""}</td>
      <td>${predictedCell(e.predicted, e.unit)}</td></tr>`;
  }).join("");
  for (const b of document.querySelectorAll("#source-table button")) b.addEventListener("click", () => showSource(b.dataset.id));
}

function esc(s) { return String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }

function predictedParts(r) {  // the prediction of one figure split into its parts, each with its definition
  const p = r.predicted;
  if (!p) return "";
  const u = r.unit === "percent" ? "%" : "";
  const rows = p.parts.map((x) => `<tr><th scope="row"><span class="swatch" aria-hidden="true" style="background:${partColor(x.part)}"></span>${esc(x.label)}</th>
    <td>${fmt(x.of_median)}${u}</td><td>${x.share === null ? "-" : Math.round(100 * x.share) + "%"}</td><td>${span(x.q05, x.q95)}${u}</td><td>${esc(x.doc)}</td></tr>`).join("");
  return `<h4>Predicted: ${fmt(p.median)}${u} (50% ${span(p.q25, p.q75)}, 90% ${span(p.q05, p.q95)}; ${p.runs} runs)</h4>
    <p class="definition">${esc(p.definition)}</p>${partsBar(p.parts)}
    <div class="table-wrap"><table class="parts"><caption>${esc(r.id)}: the predicted count split into its parts</caption>
    <thead><tr><th scope="col">Part</th><th scope="col">Of the median</th><th scope="col">Share</th><th scope="col">90% interval of the part</th><th scope="col">Definition</th></tr></thead>
    <tbody>${rows}</tbody>
    <tfoot><tr><th scope="row">Total</th><td>${fmt(p.parts.reduce((a, x) => a + (x.of_median || 0), 0))}${u}</td><td></td><td></td><td>the median prediction</td></tr></tfoot></table></div>`;
}

async function showSource(id) {
  const r = await api(`/api/evidence/${encodeURIComponent(id)}`);
  const keys = ["publisher", "kind", "value_text", "destination", "period_start", "period_end", "publication_date", "unit", "qualifier", "bound", "quote", "notes", "quality_flags"];
  const rows = keys.filter((k) => r[k] !== undefined && r[k] !== null && r[k] !== "").map((k) => `<dt>${k.replace(/_/g, " ")}</dt><dd>${esc(r[k])}</dd>`).join("");
  const m = r.model ? `<dt>model</dt><dd>${esc(r.model.quantity)}: ${fmt(r.model.median)} (90% ${span(r.model.q05, r.model.q95)}), ${esc(r.model.verdict)}</dd>` : "";
  $("source-detail").innerHTML = `<h3>${esc(r.id)}</h3><dl>${rows}${m}</dl>` + predictedParts(r) + (r.url ? `<p>Source: <a href="${esc(r.url)}" rel="noreferrer">${esc(r.url)}</a></p>` : "");
  if (state.view !== "sources") $("tab-sources").click();
  $("source-detail").focus();
}

/* ---------------------------------------------------------------- policy events (M13) */
async function eventsPanel() {
  const items = [
    ...(meta.pushes || []).map((p) => ({ id: p.id, type: "push", start: p.start, end: p.end, text: `${p.name.replace(/_/g, " ")}: ${p.description}`, source: p.source })),
    ...(meta.timeline || []).map((t) => ({ id: t.id, type: t.effect, start: t.start, end: t.end, text: t.description, source: t.source })),
  ].filter((e) => e.start && e.start <= meta.end && (!e.end || e.end >= meta.start)).sort((a, b) => a.start.localeCompare(b.start));
  const srcButtons = (src) => (src || "").split(";").filter(Boolean).map((id) => /^(EV|OBS|RS)\d+$/.test(id)
    ? `<button type="button" class="linklike" data-id="${esc(id)}">${esc(id)}</button>` : esc(id)).join(", ");
  $("events-list").innerHTML = items.map((e) => `<li><span class="when">${e.start}${e.end ? " to " + e.end : ""}</span>
    <span class="type">${esc(e.type)}</span> ${esc(e.text)} <span class="src">(${srcButtons(e.source)})</span></li>`).join("");
  for (const b of document.querySelectorAll("#events-list button")) b.addEventListener("click", () => showSource(b.dataset.id));
  const rows = items.map((e) => ({ label: `${e.id} ${e.text}`.slice(0, 48), type: e.type,
    start: e.start < meta.start ? meta.start : e.start, end: !e.end || e.end > meta.end ? meta.end : e.end }));
  const desc = `${items.length} policy events and pushes in force during the simulated period, as bars from start to end (clipped to ${meta.start} to ${meta.end}); the list below gives each with its evidence.`;
  $("events-desc").textContent = desc;
  await embed("events-chart", { height: { step: 14 }, data: { values: rows }, mark: { type: "bar", height: 9 },
    encoding: { y: { field: "label", type: "nominal", sort: null, title: null, axis: { labelFontSize: 10, labelLimit: 260 } },
      x: { field: "start", type: "temporal", title: null }, x2: { field: "end" },
      color: { field: "type", type: "nominal", title: "kind", scale: { range: ["#6a3d9a", "#1f78b4", "#33a02c", "#8c6d31", "#666666"] } },
      tooltip: [{ field: "label" }, { field: "start", type: "temporal" }, { field: "end", type: "temporal" }] } }, desc);
}

/* ---------------------------------------------------------------- what-if (S1, DF2) */
let params = [];
async function setupWhatIf() {
  params = await api("/api/params");
  const preferred = params.find((p) => p.name === "push_mobilization_intensity") || params[0];
  $("wi-param").innerHTML = params.map((p) => `<option value="${p.name}"${p === preferred ? " selected" : ""}>${p.name}</option>`).join("");
  const describe = () => {
    const p = params.find((x) => x.name === $("wi-param").value);
    $("wi-doc").textContent = `${p.doc} Default ${p.value}${p.unit ? " " + p.unit : ""}` + (p.min !== null || p.max !== null ? `; valid ${p.min ?? "-inf"} to ${p.max ?? "inf"}.` : ".");
    $("wi-value").value = p.name === "push_mobilization_intensity" ? 0 : p.value;
    if (p.min !== null) $("wi-value").min = p.min; else $("wi-value").removeAttribute("min");
    if (p.max !== null) $("wi-value").max = p.max; else $("wi-value").removeAttribute("max");
  };
  $("wi-param").addEventListener("change", describe);
  describe();
  $("whatif-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { params: { [$("wi-param").value]: +$("wi-value").value }, runs: +$("wi-runs").value, scale: +$("wi-scale").value };
    $("wi-run").disabled = true;
    $("wi-status").textContent = "queued";
    try {
      const r = await fetch("/api/scenarios", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const j = await r.json();
      if (!r.ok) throw new Error(typeof j.detail === "string" ? j.detail
        : (j.detail || []).map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; "));
      await poll(j.id);
    } catch (err) {
      $("wi-status").textContent = "Refused: " + err.message;
    } finally { $("wi-run").disabled = false; }
  });
}

async function poll(id) {
  const started = Date.now();
  for (;;) {
    const j = await api(`/api/scenarios/${id}`);
    $("wi-progress").value = j.progress;
    $("wi-status").textContent = `${j.status} (${Math.round(100 * j.progress)}%)`;
    if (j.status === "done") { showWhatIf(j.result); return; }
    if (j.status === "failed") { $("wi-status").textContent = "failed: " + j.error; return; }
    if (Date.now() - started > 600000) { $("wi-status").textContent = "still running after 10 minutes; stopped waiting"; return; }
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function showWhatIf(res) {
  $("wi-status").textContent = `done: ${res.summary}`;
  const rows = res.headlines.map((h) => `<tr><th scope="row">${h.label}</th><td>${fmt(h.baseline.median)}</td><td>${fmt(h.scenario.median)}</td>
    <td class="diff">${h.difference.median >= 0 ? "+" : ""}${fmt(h.difference.median)}</td><td>${span(h.difference.lo50, h.difference.hi50)}</td><td>${span(h.difference.lo90, h.difference.hi90)}</td></tr>`).join("");
  $("wi-result").innerHTML = `<div class="table-wrap"><table id="wi-table"><caption>Baseline, what-if and paired difference (medians over ${res.runs} pairs, ${res.scale} persons per traveller)</caption>
    <thead><tr><th scope="col">Quantity</th><th scope="col">Baseline</th><th scope="col">What-if</th><th scope="col">Paired difference</th><th scope="col">50% interval</th><th scope="col">90% interval</th></tr></thead>
    <tbody>${rows}</tbody></table></div>`;
  const data = res.difference_series.map((r) => ({ date: r.date, median: r.median, q25: r.lo50, q75: r.hi50, q05: r.lo90, q95: r.hi90 }));
  const desc = `Paired difference (what-if minus baseline) of people who left, weekly, median with 50% and 90% bands over ${res.runs} pairs. ${res.summary}`;
  $("wi-desc").textContent = desc;
  await embed("wi-chart", { height: 220, layer: [{ data: { values: data }, layer: fanLayers({ field: "date", type: "temporal", title: null }, "difference in people who left") },
    { data: { values: [{ y: 0 }] }, mark: { type: "rule", aria: false, color: "#333" }, encoding: { y: { field: "y", type: "quantitative" } } }] }, desc);
}

/* ---------------------------------------------------------------- start */
async function start() {
  readUrl();
  meta = await api("/api/meta");
  $("runs-text").textContent = meta.runs_text;
  $("version").textContent = meta.model_version;
  const d0 = new Date(meta.start + "T00:00:00Z"), d1 = new Date(meta.end + "T00:00:00Z");
  for (let d = d0; d <= d1; d = new Date(d.getTime() + 7 * 86400000)) dates.push(d.toISOString().slice(0, 10));
  if (dates[dates.length - 1] !== meta.end) dates.push(meta.end);
  if (state.date && !dates.includes(state.date) && state.date >= meta.start && state.date <= meta.end) { dates.push(state.date); dates.sort(); }
  $("map-from").innerHTML = dates.filter((d, i) => i % 4 === 0).map((d) => `<option value="${d}">${d}</option>`).join("");
  if (state.from) $("map-from").value = state.from;
  $("map-from").addEventListener("change", () => { state.from = $("map-from").value; writeUrl(); refreshPlaces(); });
  $("metric").value = state.metric;
  $("by").value = state.by || "";
  $("metric").addEventListener("change", () => { state.metric = $("metric").value; writeUrl(); mainChart(); });
  $("by").addEventListener("change", () => { state.by = $("by").value; writeUrl(); mainChart(); });
  $("dl-png").addEventListener("click", () => saveChart("png"));
  $("dl-svg").addEventListener("click", () => saveChart("svg"));
  $("country-search").addEventListener("input", countryList);
  setupTimeline();
  $("date-out").textContent = state.date;
  evidence = await api("/api/evidence");
  const kinds = [...new Set(evidence.map((e) => e.kind))].sort();
  $("source-kind").innerHTML += kinds.map((k) => `<option value="${k}">${k.replace(/_/g, " ")}</option>`).join("");
  $("source-kind").addEventListener("change", sourcesTable);
  sourcesTable();
  partsLegend();
  await refreshPlaces();
  if (!state.country && mapData.countries.length) state.country = mapData.countries[0].iso3;
  countryList();
  setupTabs();
  await Promise.all([headline(), mainChart(), countryChart(), setupWhatIf(), eventsPanel()]);
  writeUrl();
  document.body.dataset.ready = "1";
}

start().catch((e) => {
  const p = document.createElement("p");
  p.className = "error"; p.setAttribute("role", "alert");
  p.textContent = "Could not load the data: " + e.message;
  document.querySelector("header").appendChild(p);
  document.body.dataset.ready = "error";
});
