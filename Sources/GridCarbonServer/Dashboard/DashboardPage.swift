/// The dashboard's page, style and script (reference §6), plain HTML, CSS and JavaScript with no
/// build step; `{{AUTH}}` in the page becomes `required` or `none`, `{{WINDOW}}` the window length
/// shown (`1h` when configured, else the shortest).
enum DashboardAssets {
    static let page = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="gridcarbon-auth" content="{{AUTH}}">
<meta name="gridcarbon-window" content="{{WINDOW}}">
<title>gridcarbon</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header>
  <h1>gridcarbon</h1>
  <span id="status">loading…</span>
  <span id="live" class="dot" title="alert stream"></span>
  <button id="logout" hidden>sign out</button>
</header>
<form id="login" hidden>
  <p>This daemon needs a token with the <b>read</b> role.</p>
  <label>Token <input id="token" type="password" autocomplete="off" required></label>
  <button type="submit">Open</button>
  <p id="login-error" class="error"></p>
</form>
<main id="main" hidden>
  <section class="card wide">
    <h2>Intensity, last closed <span id="window-name">hour</span> <small id="hour"></small></h2>
    <div id="map" role="grid" aria-label="provinces"></div>
    <p class="legend">kg CO2/kWh · factor: <b>R</b> real-time · <b>M</b> mix · <b>F</b> flow-traced · <b>A</b> annual · <b>N</b> national</p>
  </section>
  <section class="card">
    <h2>Trend, last day <small id="trend-label">national</small></h2>
    <svg id="trend" viewBox="0 0 600 220" preserveAspectRatio="none" role="img" aria-label="intensity trend"></svg>
    <p class="legend"><span class="sw national"></span>national <span class="sw province"></span><span id="trend-province">click a province</span></p>
  </section>
  <section class="card">
    <h2>Today <small id="day"></small></h2>
    <p class="big"><span id="today-co2">–</span> kg CO2 · <span id="today-kwh">–</span> kWh</p>
    <div id="budgets"></div>
  </section>
  <section class="card">
    <h2>Top enterprises today</h2>
    <ol id="enterprises" class="rows"></ol>
  </section>
  <section class="card">
    <h2>Alerts <small id="active"></small></h2>
    <ul id="feed" class="rows"></ul>
  </section>
  <section class="card wide" id="province" hidden>
    <h2 id="province-title"></h2>
    <div class="cols">
      <div><h3>Cities</h3><ol id="cities" class="rows"></ol></div>
      <div><h3>Parks</h3><ol id="parks" class="rows"></ol></div>
      <div><h3>Industries</h3><ol id="industries" class="rows"></ol></div>
    </div>
  </section>
</main>
</body>
</html>
"""#

    static let style = #"""
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: #1d2327; background: #f3f5f6; }
header { display: flex; align-items: center; gap: 12px; padding: 8px 16px; background: #1d2327; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
#status { flex: 1; font-size: 12px; opacity: .8; }
.dot { width: 10px; height: 10px; border-radius: 50%; background: #888; }
.dot.on { background: #3c3; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 12px; padding: 12px; }
.card { background: #fff; border-radius: 6px; padding: 10px 12px; box-shadow: 0 1px 2px rgba(0,0,0,.1); min-width: 0; }
.card.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
h2 small { font-weight: normal; color: #666; }
h3 { font-size: 13px; margin: 4px 0; }
#map { display: grid; grid-template-columns: repeat(8, minmax(0, 1fr)); gap: 3px; max-width: 720px; }
.tile { border: 0; border-radius: 4px; padding: 3px 2px; min-height: 44px; background: #ccc; color: #000; text-align: center; cursor: pointer; font: inherit; overflow: hidden; }
.tile .c { display: block; font-weight: bold; font-size: 12px; }
.tile .v { display: block; font-size: 11px; }
.tile .b { font-size: 9px; opacity: .75; }
.tile.sel { outline: 3px solid #1d2327; }
.legend { font-size: 12px; color: #555; margin: 6px 0 0; }
.sw { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin: 0 4px 0 8px; }
.sw.national, .line.national { background: #1d2327; stroke: #1d2327; }
.sw.province, .line.province { background: #1a73e8; stroke: #1a73e8; }
#trend { width: 100%; height: 200px; }
#trend .line { fill: none; stroke-width: 2.5; }
#trend .axis { stroke: #bbb; stroke-width: 1; }
#trend text { font-size: 12px; fill: #555; }
.big { font-size: 18px; margin: 4px 0 10px; }
.gauge { margin: 6px 0; }
.gauge .bar { position: relative; height: 12px; background: #e5e8ea; border-radius: 6px; overflow: hidden; }
.gauge .fill { height: 100%; background: #3a9d5d; }
.gauge .fill.warn { background: #e0a100; }
.gauge .fill.over { background: #d93025; }
.gauge .mark { position: absolute; top: 0; bottom: 0; width: 2px; background: #555; }
.rows { margin: 0; padding-left: 28px; max-height: 320px; overflow-y: auto; }
.rows li { padding: 3px 0; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
#feed { list-style: none; padding: 0; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px; color: #fff; background: #666; }
.sev.warning { background: #e0a100; } .sev.critical { background: #d93025; } .sev.info { background: #1a73e8; }
.sev.resolved { background: #3a9d5d; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 8px; }
form#login { max-width: 360px; margin: 40px auto; background: #fff; padding: 16px; border-radius: 6px; }
form#login input { width: 100%; margin: 6px 0 10px; padding: 6px; }
.error { color: #d93025; }
.muted { color: #888; }
@media (max-width: 420px) { main { padding: 6px; gap: 8px; grid-template-columns: minmax(0, 1fr); } .tile { min-height: 40px; } .tile .v { font-size: 10px; } }
"""#
}
