extension DashboardAssets {
    /// The page's script: polls the `read` endpoints, reads the alert stream with `fetch` (so it
    /// can send `Authorization` and `Last-Event-ID`, which `EventSource` cannot).
    static let script = #"""
'use strict';
// gridcarbon dashboard (reference §6). Plain JavaScript, no build step, no outside asset.
const WINDOW = document.querySelector('meta[name="gridcarbon-window"]').content;
const REFRESH_MS = 10000;
const TILES = [ // [region, column, row]: a rough map of China
  ['CN-HL',7,0],
  ['CN-NM',4,1],['CN-BJ',5,1],['CN-JL',7,1],
  ['CN-XJ',0,2],['CN-NX',3,2],['CN-SX',4,2],['CN-HE',5,2],['CN-TJ',6,2],['CN-LN',7,2],
  ['CN-QH',1,3],['CN-GS',2,3],['CN-SN',3,3],['CN-HA',4,3],['CN-SD',5,3],
  ['CN-XZ',0,4],['CN-SC',1,4],['CN-CQ',2,4],['CN-HB',3,4],['CN-AH',4,4],['CN-JS',5,4],
  ['CN-YN',1,5],['CN-GZ',2,5],['CN-HN',3,5],['CN-JX',4,5],['CN-ZJ',5,5],['CN-SH',6,5],
  ['CN-GX',2,6],['CN-GD',3,6],['CN-FJ',4,6],
  ['CN-HI',3,7],
];
const BASIS = { realtime: 'R', mix: 'M', flow_traced: 'F', annual: 'A', national: 'N' };
const $ = (id) => document.getElementById(id);
const authRequired = document.querySelector('meta[name="gridcarbon-auth"]').content === 'required';
const state = { token: sessionStorage.getItem('gridcarbon-token'), selected: null, lastId: null, alerts: new Map(), streaming: false };

class AuthError extends Error {}

function headers() {
  const h = {};
  if (state.token) h['Authorization'] = 'Bearer ' + state.token;
  return h;
}

async function api(path) {
  const res = await fetch(path, { headers: headers(), cache: 'no-store' });
  if (res.status === 401 || res.status === 403) throw new AuthError(res.status === 403 ? 'this token lacks the read role' : 'token not accepted');
  const body = await res.json();
  if (!res.ok) throw new Error(body.message || ('HTTP ' + res.status));
  return body;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (v, d) => (v === null || v === undefined) ? '–' : Number(v).toFixed(d);
const kg = (v) => v >= 1e6 ? (v / 1e3).toFixed(0) + ' t' : v >= 1e3 ? (v / 1e3).toFixed(1) + ' t' : v.toFixed(1) + ' kg';
const hhmm = (t) => t ? t.slice(11, 16) : '';

function color(v) {
  if (v === null || v === undefined) return '#d5d9dc';
  const x = Math.max(0, Math.min(1, v / 1.0));
  return 'hsl(' + Math.round(120 * (1 - x)) + ',65%,' + (55 - 10 * x) + '%)';
}

// ---- login ----------------------------------------------------------------
function showLogin(message) {
  $('main').hidden = true;
  $('login').hidden = false;
  $('logout').hidden = true;
  $('login-error').textContent = message || '';
  $('token').focus();
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = $('token').value.trim();
  sessionStorage.setItem('gridcarbon-token', state.token);
  $('token').value = '';
  start();
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem('gridcarbon-token');
  state.token = null;
  showLogin('');
});

// ---- tile map ---------------------------------------------------------------
function buildMap() {
  const map = $('map');
  for (const [region, col, row] of TILES) {
    const t = el('button', 'tile');
    t.type = 'button';
    t.dataset.region = region;
    t.style.gridColumn = String(col + 1);
    t.style.gridRow = String(row + 1);
    t.append(el('span', 'c', region.slice(3)), el('span', 'v', '–'), el('span', 'b', ''));
    t.addEventListener('click', () => selectProvince(region));
    map.append(t);
  }
}

function drawMap(rows, factors) {
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const basis = new Map((factors || []).map((f) => [f.region, f]));
  for (const t of $('map').children) {
    const r = byKey.get(t.dataset.region);
    const f = basis.get(t.dataset.region);
    const v = r ? r.intensity_kg_per_kwh : null;
    t.dataset.intensity = v === null ? '' : String(v);
    t.dataset.basis = f ? f.basis : '';
    t.style.background = color(v);
    t.querySelector('.v').textContent = fmt(v, 3);
    t.querySelector('.b').textContent = f ? (BASIS[f.basis] || f.basis) : '';
    t.title = t.dataset.region + ': ' + (v === null ? 'no data' : fmt(v, 3) + ' kg/kWh') +
      (r ? ', ' + fmt(r.energy_kwh, 0) + ' kWh, ' + fmt(r.co2_kg, 0) + ' kg CO2' : '') + (f ? ', factor ' + f.kg_per_kwh + ' (' + f.basis + ')' : '');
  }
}

// ---- trend chart (inline SVG) -------------------------------------------------
function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

function drawTrend(national, province) {
  const s = $('trend');
  s.replaceChildren();
  const series = [['national', national], ['province', province]].filter(([, p]) => p && p.length);
  const all = series.flatMap(([, p]) => p).filter((p) => p.intensity_kg_per_kwh !== null);
  if (!all.length) {
    s.append(Object.assign(svg('text', { x: 20, y: 110 }), { textContent: 'no closed ' + WINDOW + ' windows yet' }));
    return;
  }
  const t = (p) => Date.parse(p.window_end);
  const t0 = Math.min(...all.map(t)), t1 = Math.max(...all.map(t));
  const vmax = Math.max(...all.map((p) => p.intensity_kg_per_kwh)) * 1.1 || 1;
  const L = 44, R = 590, T = 10, B = 195;
  const x = (v) => t1 === t0 ? (L + R) / 2 : L + (R - L) * (v - t0) / (t1 - t0);
  const y = (v) => B - (B - T) * v / vmax;
  s.append(svg('line', { x1: L, y1: B, x2: R, y2: B, class: 'axis' }), svg('line', { x1: L, y1: T, x2: L, y2: B, class: 'axis' }));
  const label = (x0, y0, text, anchor) => { const e = svg('text', { x: x0, y: y0, 'text-anchor': anchor || 'start' }); e.textContent = text; s.append(e); };
  label(L - 4, T + 10, vmax.toFixed(2), 'end');
  label(L - 4, B, '0', 'end');
  label(L, B + 18 > 220 ? 218 : B + 18, hhmm(all.reduce((a, p) => t(p) < t(a) ? p : a).window_end));
  label(R, 218, hhmm(all.reduce((a, p) => t(p) > t(a) ? p : a).window_end), 'end');
  for (const [name, points] of series) {
    const d = points.filter((p) => p.intensity_kg_per_kwh !== null).map((p) => x(t(p)).toFixed(1) + ',' + y(p.intensity_kg_per_kwh).toFixed(1)).join(' ');
    s.append(svg('polyline', { points: d, class: 'line ' + name }));
  }
}

// ---- today, budgets, enterprises ------------------------------------------------
function drawToday(national, budgets) {
  const n = national.totals.find((r) => r.key === 'CN');
  $('day').textContent = national.day || '';
  $('today-co2').textContent = n ? fmt(n.day_co2_kg, 0) : '–';
  $('today-kwh').textContent = n ? fmt(n.day_energy_kwh, 0) : '–';
  const box = $('budgets');
  box.replaceChildren();
  if (!budgets.budgets.length) box.append(el('p', 'muted', 'no budget rules'));
  for (const b of budgets.budgets) {
    const ratio = b.budget_kg > 0 ? b.to_date_kg / b.budget_kg : 0;
    const g = el('div', 'gauge');
    g.dataset.key = b.level + '/' + b.key + '/' + b.period;
    g.append(el('div', '', b.key + ' (' + b.level + ', ' + b.period + '): ' + kg(b.to_date_kg) + ' of ' + kg(b.budget_kg) + ' · ' + Math.round(ratio * 100) + '%'));
    const bar = el('div', 'bar');
    const fill = el('div', 'fill' + (ratio >= 1 ? ' over' : ratio >= b.warn_ratio ? ' warn' : ''));
    fill.style.width = Math.min(100, ratio * 100).toFixed(1) + '%';
    const mark = el('div', 'mark');
    mark.style.left = Math.min(100, b.warn_ratio * 100).toFixed(1) + '%';
    bar.append(fill, mark);
    g.append(bar);
    box.append(g);
  }
}

function drawList(id, rows, label) {
  const list = $(id);
  list.replaceChildren();
  if (!rows.length) list.append(el('li', 'muted', 'none today'));
  for (const r of rows) {
    const li = el('li', '', r.key + ' · ' + kg(r.day_co2_kg) + ' · ' + fmt(r.day_energy_kwh, 0) + ' kWh');
    li.dataset.key = r.key;
    list.append(li);
  }
}

const topRows = (rows, n) => rows.filter((r) => r.day_co2_kg > 0).sort((a, b) => b.day_co2_kg - a.day_co2_kg).slice(0, n);

// ---- province details ---------------------------------------------------------------
async function selectProvince(region) {
  state.selected = region;
  for (const t of $('map').children) t.classList.toggle('sel', t.dataset.region === region);
  $('trend-province').textContent = region;
  $('trend-label').textContent = 'national and ' + region;
  await refreshProvince();
  $('province').scrollIntoView({ block: 'nearest' });
}

async function refreshProvince() {
  const region = state.selected;
  if (!region) return;
  const [p, nat, ser] = await Promise.all([
    api('/v1/province?key=' + encodeURIComponent(region)),
    api('/v1/series?level=national&key=CN&window=' + WINDOW + '&hours=24'),
    api('/v1/series?level=province&key=' + encodeURIComponent(region) + '&window=' + WINDOW + '&hours=24'),
  ]);
  $('province').hidden = false;
  $('province-title').textContent = region + ' today';
  drawList('cities', topRows(p.cities, 50));
  drawList('parks', topRows(p.parks, 50));
  drawList('industries', topRows(p.industries, 50));
  drawTrend(nat.points, ser.points);
}

// ---- alert feed over SSE, read with fetch ------------------------------------------------
function addAlert(a, live) {
  const feed = $('feed');
  const li = el('li');
  li.dataset.seq = String(a.seq);
  li.dataset.id = a.id;
  li.dataset.state = a.state;
  li.append(el('span', 'sev ' + (a.state === 'resolved' ? 'resolved' : a.severity), a.state === 'resolved' ? 'resolved' : a.severity), ' ',
    el('b', '', a.id), ' ', el('span', '', a.message || ''), ' ', el('small', 'muted', hhmm(a.window_end) + ' #' + a.seq));
  feed.prepend(li);
  while (feed.children.length > 100) feed.lastChild.remove();
  if (a.state === 'resolved') state.alerts.delete(a.id); else state.alerts.set(a.id, a);
  $('active').textContent = state.alerts.size + ' active';
  if (live) refresh();
}

async function streamAlerts() {
  if (state.streaming) return;
  state.streaming = true;
  let retry = 2000;
  while (state.streaming) {
    try {
      const h = headers();
      if (state.lastId !== null) h['Last-Event-ID'] = state.lastId;
      const res = await fetch('/v1/alerts/stream', { headers: h, cache: 'no-store' });
      if (res.status === 401 || res.status === 403) { state.streaming = false; showLogin('token not accepted'); return; }
      if (res.ok && res.body) {
        $('live').classList.add('on');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '', ev = { data: [] };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n')) >= 0) {
            let line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if (line.endsWith('\r')) line = line.slice(0, -1);
            if (line === '') { dispatch(ev); ev = { data: [] }; continue; }
            if (line.startsWith(':')) continue;
            const c = line.indexOf(':');
            const field = c < 0 ? line : line.slice(0, c);
            let v = c < 0 ? '' : line.slice(c + 1);
            if (v.startsWith(' ')) v = v.slice(1);
            if (field === 'id') ev.id = v;
            else if (field === 'event') ev.event = v;
            else if (field === 'data') ev.data.push(v);
            else if (field === 'retry' && /^\d+$/.test(v)) retry = Number(v);
          }
        }
      }
    } catch (e) { /* the daemon went away: retry below */ }
    $('live').classList.remove('on');
    await new Promise((r) => setTimeout(r, retry));
  }
}

function dispatch(ev) {
  if (ev.id !== undefined) state.lastId = ev.id;
  if (!ev.data.length) return;
  const data = JSON.parse(ev.data.join('\n'));
  if ((ev.event || 'message') === 'alert') addAlert(data, true);
  else if (ev.event === 'gap') $('feed').prepend(el('li', 'muted', 'events before #' + data.first_seq + ' are no longer kept'));
}

// ---- refresh ---------------------------------------------------------------------------
let refreshing = null;
function refresh() {
  if (!refreshing) refreshing = load().catch(fail).finally(() => { refreshing = null; });
  return refreshing;
}

async function load() {
  const [agg, national, enterprises, budgets, nat] = await Promise.all([
    api('/v1/aggregates?window=' + WINDOW + '&level=province&limit=1'),
    api('/v1/totals?level=national'),
    api('/v1/totals?level=enterprise'),
    api('/v1/budgets'),
    api('/v1/series?level=national&key=CN&window=' + WINDOW + '&hours=24'),
  ]);
  const w = agg.windows[agg.windows.length - 1];
  let factors = null;
  if (w) factors = (await api('/v1/factors?at=' + encodeURIComponent(w.window_start) + '&window=' + WINDOW)).in_force;
  $('hour').textContent = w ? hhmm(w.window_start) + '–' + hhmm(w.window_end) + ' ' + w.window_start.slice(0, 10) : '(none closed yet)';
  drawMap(w ? w.rows : [], factors);
  drawToday(national, budgets);
  drawList('enterprises', topRows(enterprises.totals, 10));
  if (state.selected) await refreshProvince(); else drawTrend(nat.points, null);
  $('status').textContent = 'updated ' + new Date().toLocaleTimeString();
  document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
}

function fail(e) {
  if (e instanceof AuthError) { state.streaming = false; showLogin(e.message); return; }
  $('status').textContent = 'error: ' + e.message;
}

async function start() {
  $('login').hidden = true;
  $('main').hidden = false;
  $('logout').hidden = !authRequired;
  try {
    const active = await api('/v1/alerts');
    $('feed').replaceChildren();
    state.alerts.clear();
    for (const a of active.alerts) addAlert(a, false);
    if (state.lastId === null) state.lastId = String(active.seq);
    await refresh();
    streamAlerts();
  } catch (e) { fail(e); }
}

if (WINDOW !== '1h') $('window-name').textContent = WINDOW + ' window';
buildMap();
if (authRequired && !state.token) showLogin(''); else start();
setInterval(() => { if (!$('main').hidden) refresh(); }, REFRESH_MS);
"""#
}
