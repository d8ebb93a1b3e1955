"""``trace VOLUME_ID --html FILE``: one self-contained page of a run.

A timeline of every task's execute and revert across the three flows,
one lane per process and thread, and a table of the same events; hovering
a bar shows the task, clicking it (or its row) shows its inputs and
outputs; ``#event-N`` in the address shows the Nth event's at once.
Everything is in the page: no network, no CDN.
"""

import html

from oslo_serialization import jsonutils

_STYLE = """
body { font: 14px sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
#timeline { position: relative; border: 1px solid #ccc; margin: 1em 0; }
.lane { position: relative; height: 28px; border-bottom: 1px dashed #ddd; }
.lane-label { position: absolute; left: 4px; top: 6px; font-size: 11px;
              color: #666; width: 150px; overflow: hidden; }
.bar { position: absolute; top: 4px; height: 20px; min-width: 4px;
       border-radius: 3px; cursor: pointer; opacity: .85; }
.bar:hover, .bar.selected { opacity: 1; outline: 2px solid #000; }
.volume_create_api { background: #4e79a7; }
.volume_create_scheduler { background: #f28e2b; }
.volume_create_manager { background: #59a14f; }
.revert { background: #e15759 !important; }
.failed { background: repeating-linear-gradient(45deg, #e15759, #e15759 4px,
          #fff 4px, #fff 8px) !important; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #eee; padding: 3px 6px; text-align: left;
         font-size: 12px; vertical-align: top; }
tr.event { cursor: pointer; }
tr.event:hover, tr.selected { background: #ffd; }
#detail { white-space: pre-wrap; font: 12px monospace; background: #f6f6f6;
          border: 1px solid #ddd; padding: .6em; min-height: 3em; }
"""

_SCRIPT = r"""
(function () {
  var events = JSON.parse(document.getElementById('events').textContent);
  var timeline = document.getElementById('timeline');
  var rows = document.getElementById('rows');
  var detail = document.getElementById('detail');
  var starts = events.map(function (e) { return e.started; })
                     .filter(function (s) { return s !== null; });
  var t0 = starts.length ? Math.min.apply(null, starts) : 0;
  var t1 = t0;
  events.forEach(function (e, i) {
    if (e.started === null) { e.started = t0 + i * 0.001; }
    t1 = Math.max(t1, e.started + (e.seconds || 0));
  });
  var span = Math.max(t1 - t0, 0.001);
  var lanes = {};
  var selected = [];
  function short(name) { return name.split(';')[0].split('.').pop(); }
  function show(i) {
    selected.forEach(function (n) { n.classList.remove('selected'); });
    selected = Array.prototype.slice.call(
      document.querySelectorAll('[data-index="' + i + '"]'));
    selected.forEach(function (n) { n.classList.add('selected'); });
    var e = events[i];
    detail.textContent = short(e.task) + ' ' + e.action + ' (' + e.state +
      ', ' + (1000 * (e.seconds || 0)).toFixed(1) + ' ms, ' + e.flow +
      ', pid ' + e.pid + ', ' + e.thread + ')\n\ninputs:\n' +
      JSON.stringify(e.inputs || {}, null, 2) + '\n\noutputs:\n' +
      JSON.stringify(e.outputs || {}, null, 2);
  }
  events.forEach(function (e, i) {
    var key = 'pid ' + e.pid + ' / ' + e.thread;
    if (!lanes[key]) {
      var lane = document.createElement('div');
      lane.className = 'lane';
      var label = document.createElement('div');
      label.className = 'lane-label';
      label.textContent = key;
      lane.appendChild(label);
      timeline.appendChild(lane);
      lanes[key] = lane;
    }
    var bar = document.createElement('div');
    bar.className = 'bar task ' + e.flow +
      (e.action === 'revert' ? ' revert' : '') +
      (/FAILURE/.test(e.state) ? ' failed' : '');
    bar.dataset.index = i;
    bar.dataset.task = short(e.task);
    var left = 160 + (e.started - t0) / span * 600;
    bar.style.left = left + 'px';
    bar.style.width = Math.max((e.seconds || 0) / span * 600, 4) + 'px';
    bar.title = short(e.task) + ' ' + e.action + ' ' + e.state + ' ' +
      (1000 * (e.seconds || 0)).toFixed(1) + ' ms';
    bar.addEventListener('click', function () { show(i); });
    bar.addEventListener('mouseenter', function () { show(i); });
    lanes[key].appendChild(bar);
    var row = document.createElement('tr');
    row.className = 'event';
    row.dataset.index = i;
    [e.flow, short(e.task), e.action, e.state,
     (1000 * (e.seconds || 0)).toFixed(1)].forEach(function (text) {
      var cell = document.createElement('td');
      cell.textContent = text;
      row.appendChild(cell);
    });
    row.addEventListener('click', function () { show(i); });
    rows.appendChild(row);
  });
  timeline.style.width = '780px';
  var linked = /^#event-(\d+)$/.exec(window.location.hash);
  if (linked && events[+linked[1]]) { show(+linked[1]); }
  document.body.dataset.events = String(events.length);
})();
"""


#: Script errors are written on the page itself, for whoever checks it.
_ERRORS = """
window.addEventListener('error', function (e) {
  var root = document.documentElement;
  root.dataset.errors = (root.dataset.errors || '') + e.message + ';';
});
"""


def page(volume_id, events):
    """The HTML page of ``events`` (JSON-ready, secrets masked)."""
    data = jsonutils.dumps(events).replace('</', '<\\/')
    title = html.escape(f'volflow trace of volume {volume_id}')
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>{_ERRORS}</script>
<style>{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<p>Each bar is one task's execute (blue: API flow, orange: scheduler,
green: manager) or revert (red), in its process and thread. Hover or
click a bar or a row to see what the task took from the store and what it
provided.</p>
<div id="timeline"></div>
<div id="detail">Hover or click a task.</div>
<table>
<thead><tr><th>flow</th><th>task</th><th>action</th><th>state</th>
<th>ms</th></tr></thead>
<tbody id="rows"></tbody>
</table>
<script id="events" type="application/json">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
