// Guestsync dashboard: local times, the live feed applied to the open page in place, and
// notifications shown as toasts (and desktop notifications where the operator allowed them).
// Plain DOM code; every value from the services is inserted as text, never as HTML.
(function () {
  "use strict";

  // The services' vocabularies and their colour classes, as the server defines them
  // (dashboard/contract.py), handed over on <body data-contract>.
  var CONTRACT = (function () {
    try { return JSON.parse(document.body.getAttribute("data-contract") || "{}"); } catch (err) { return {}; }
  })();
  var STATUS_CLASSES = CONTRACT.status_classes || {};
  var TIER_CLASSES = CONTRACT.tier_classes || {};
  var BREAKER_HELP = CONTRACT.breaker_help || {};
  var DISABLED_REASONS = CONTRACT.disabled_reasons || {};
  var NOTIFICATION_LEVELS = CONTRACT.notification_levels || {};

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Today's times as HH:MM:SS (what ops compare at a glance), older ones with their date.
  function localText(date) {
    var now = new Date();
    var time = pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds());
    if (date.toDateString() === now.toDateString()) { return time; }
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " + time;
  }

  function utcText(date) {
    return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "").replace(/Z$/, "") + " UTC";
  }

  // <time datetime="...Z"> shows local time; the UTC time stays on hover.
  function localiseTime(el) {
    var date = new Date(el.getAttribute("datetime"));
    if (isNaN(date.getTime())) { return; }
    el.textContent = localText(date);
    el.title = utcText(date);
  }

  function localiseAll(root) {
    var times = (root || document).querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) { localiseTime(times[i]); }
  }

  // --- building cells ------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function badge(status) {
    var text = String(status == null ? "unknown" : status).replace(/_/g, " ");
    return el("span", { "class": "badge st-" + (STATUS_CLASSES[status] || "muted"), "data-status": String(status) }, [text]);
  }

  function tierBadge(tier) {
    return el("span", { "class": "badge tier-" + (TIER_CLASSES[tier] || "muted") }, [String(tier || "unknown")]);
  }

  function timeTag(value) {
    if (!value) { return el("span", { "class": "none" }, ["–"]); }
    var node = el("time", { datetime: value }, [value]);
    localiseTime(node);
    return node;
  }

  function td(children, attrs) { return el("td", attrs, children); }

  // One path segment from a service's id: "/" and every other reserved character encoded, and
  // a dots-only id ("..") encoded twice so the browser cannot resolve it as "go up" (the same
  // rule as the server's segment filter).
  function segment(value) {
    var text = encodeURIComponent(String(value));
    return /^\.+$/.test(text) ? text.replace(/\./g, "%252E") : text;
  }

  function shortId(id) { id = String(id || ""); return id.length > 12 ? id.slice(0, 8) : id; }

  function entityCell(id, version) {
    var children = [String(id == null ? "" : id)];
    if (version) { children.push(" ", el("span", { "class": "dim" }, ["v" + version])); }
    return td(children, { "class": "nowrap" });
  }

  function money(values) {
    if (!values || typeof values !== "object") { return "–"; }
    var keys = Object.keys(values).sort();
    if (!keys.length) { return "–"; }
    return keys.map(function (c) { return values[c] + " " + c; }).join(" · ");
  }

  function eventRow(e) {
    return el("tr", { "data-id": String(e.id) }, [
      td([el("a", { href: "/events/" + segment(e.id) }, ["#" + e.id])]),
      td([el("code", {}, [String(e.type)])]),
      td([badge(e.status)]),
      entityCell(e.entity_id, e.entity_version),
      td([timeTag(e.occurred_at)]),
      td([timeTag(e.received_at)])
    ]);
  }

  function deliveryRow(d) {
    return el("tr", { "data-id": String(d.id) }, [
      td([el("a", { href: "/deliveries/" + segment(d.id), title: String(d.id) }, [el("code", {}, [shortId(d.id)])])]),
      td([el("code", {}, [String(d.type)])]),
      td([badge(d.status)], { "data-field": "status" }),
      entityCell(d.entity_id, d.entity_version),
      td([String(d.attempt_count == null ? "" : d.attempt_count)], { "data-field": "attempt_count" }),
      td([timeTag(d.created_at)]),
      td([timeTag(d.delivered_at)], { "data-field": "delivered_at" })
    ]);
  }

  function replaceChildren(node, children) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
    children.forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
  }

  function findRow(list, id, tag) {
    var rows = list.querySelectorAll((tag || "tr") + "[data-id]");
    for (var i = 0; i < rows.length; i++) { if (rows[i].getAttribute("data-id") === String(id)) { return rows[i]; } }
    return null;
  }

  function matchesFilters(list, data) {
    var attrs = list.attributes;
    for (var i = 0; i < attrs.length; i++) {
      var name = attrs[i].name;
      if (name.indexOf("data-filter-") !== 0) { continue; }
      var field = name.slice("data-filter-".length).replace(/-/g, "_");
      if (String(data[field]) !== attrs[i].value) { return false; }
    }
    return true;
  }

  function prepend(list, row) {
    var empty = list.querySelector("tr.empty");
    if (empty) { empty.parentNode.removeChild(empty); }
    row.classList.add("fresh");
    list.insertBefore(row, list.firstChild);
    var limit = parseInt(list.getAttribute("data-limit") || "50", 10);
    var rows = list.querySelectorAll("tr[data-id]");
    for (var i = limit; i < rows.length; i++) { list.removeChild(rows[i]); }
  }

  // --- applying messages ---------------------------------------------------------------

  var deliveryStatus = {};  // delivery id -> last status seen on this page (for the counters)

  function rememberDeliveries() {
    var lists = document.querySelectorAll('[data-live-list="delivery"] tr[data-id]');
    for (var i = 0; i < lists.length; i++) {
      var status = lists[i].querySelector('[data-field="status"] .badge');
      if (status) { deliveryStatus[lists[i].getAttribute("data-id")] = status.getAttribute("data-status"); }
    }
  }

  function bumpCount(status, delta) {
    var node = document.querySelector('[data-count="' + status + '"]');
    if (!node) { return; }
    var value = parseInt(node.textContent, 10);
    if (isNaN(value)) { return; }
    node.textContent = String(Math.max(0, value + delta));
  }

  function applyEvent(e) {
    var lists = document.querySelectorAll('[data-live-list="event"]');
    for (var i = 0; i < lists.length; i++) {
      if (findRow(lists[i], e.id) || !matchesFilters(lists[i], e)) { continue; }
      prepend(lists[i], eventRow(e));
    }
  }

  function applyDelivery(d) {
    var previous = deliveryStatus[d.id];
    if (previous !== d.status) {
      if (previous) { bumpCount(previous, -1); }
      bumpCount(d.status, +1);
      deliveryStatus[d.id] = d.status;
    }
    var lists = document.querySelectorAll('[data-live-list="delivery"]');
    for (var i = 0; i < lists.length; i++) {
      var row = findRow(lists[i], d.id);
      if (row) {
        var fresh = deliveryRow(d);
        fresh.classList.add("fresh");
        if (!matchesFilters(lists[i], d)) { lists[i].removeChild(row); continue; }
        lists[i].replaceChild(fresh, row);
      } else if (matchesFilters(lists[i], d)) {
        prepend(lists[i], deliveryRow(d));
      }
    }
    var detail = document.querySelector("[data-delivery-status]");
    if (detail && detail.getAttribute("data-delivery-status") === String(d.id)) {
      replaceChildren(detail, [badge(d.status)]);
    }
  }

  function applyBreaker(b) {
    if (!b) { return; }
    var target = document.getElementById("breaker-badge");
    if (target) { replaceChildren(target, [badge(b.state)]); }
    var help = document.getElementById("breaker-help");
    if (help) { help.textContent = BREAKER_HELP[b.state] || ""; help.setAttribute("data-state", b.state); }
    var failures = document.querySelector('[data-live="breaker-failures"]');
    if (failures && b.failure_count != null) { failures.textContent = String(b.failure_count); }
  }

  function applyProfile(p) {
    var stats = p.stats || {};
    var rows = document.querySelectorAll('[data-list="profile"] tr[data-id="' + String(p.guest_id).replace(/[^0-9]/g, "") + '"]');
    for (var i = 0; i < rows.length; i++) {
      var set = function (field, value) {
        var cell = rows[i].querySelector('[data-field="' + field + '"]');
        if (cell) { replaceChildren(cell, [value]); }
      };
      set("name", p.name == null ? "–" : String(p.name));
      set("email", p.email == null ? "–" : String(p.email));
      set("tier", tierBadge(p.tier));
      set("total_reservations", String(stats.total_reservations));
      set("total_nights", String(stats.total_nights));
      set("lifetime_value", money(stats.lifetime_value));
    }
    var heading = document.querySelector("[data-profile-id]");
    if (heading && heading.getAttribute("data-profile-id") === String(p.guest_id)) {
      ["total_reservations", "active_reservations", "cancelled_reservations", "total_nights"].forEach(function (k) {
        var cell = document.querySelector('[data-stat="' + k + '"]');
        if (cell && cell.firstChild && stats[k] != null) { cell.firstChild.textContent = String(stats[k]) + (k === "total_nights" ? " " : ""); }
      });
      var lv = document.querySelector('[data-stat="lifetime_value"]');
      if (lv) { lv.textContent = money(stats.lifetime_value); }
      var tier = heading.querySelector('[data-field="tier"]');
      if (tier) { replaceChildren(tier, [tierBadge(p.tier)]); }
    }
  }

  // --- the overview: endpoint tiles, last-hour figures, the chart, reconciliation --------

  function setField(root, field, value) {
    var node = root && root.querySelector('[data-field="' + field + '"]');
    if (node) { replaceChildren(node, [value]); }
    return node;
  }

  function formatMs(value) {
    if (typeof value !== "number") { return "–"; }
    if (value < 1000) { return Math.round(value) + " ms"; }
    if (value < 10000) { return (value / 1000).toFixed(1) + " s"; }
    if (value < 120000) { return Math.round(value / 1000) + " s"; }
    return (value / 60000).toFixed(1) + " min";
  }

  function percent(value) { return typeof value === "number" ? (value * 100).toFixed(1) + " %" : "–"; }

  function ageText(seconds) {
    if (seconds == null || isNaN(seconds)) { return "–"; }
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) { return seconds + " s"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min"; }
    if (seconds < 86400) { return Math.floor(seconds / 3600) + " h " + pad(Math.floor(seconds % 3600 / 60)) + " min"; }
    return Math.floor(seconds / 86400) + " d " + Math.floor(seconds % 86400 / 3600) + " h";
  }

  // Ages keep counting between messages: every second, from the timestamp the element holds.
  function refreshAges() {
    var nodes = document.querySelectorAll("[data-age-since]");
    for (var i = 0; i < nodes.length; i++) {
      var since = nodes[i].getAttribute("data-age-since");
      var date = since ? new Date(since) : null;
      nodes[i].textContent = date && !isNaN(date.getTime()) ? ageText((Date.now() - date.getTime()) / 1000) : "–";
    }
  }

  function setAge(root, since) {
    var node = root && root.querySelector("[data-age-since]");
    if (node) { node.setAttribute("data-age-since", since || ""); }
    refreshAges();
  }

  function findTile(id) {
    var tiles = document.querySelectorAll("[data-endpoint-id]");
    for (var i = 0; i < tiles.length; i++) { if (tiles[i].getAttribute("data-endpoint-id") === String(id)) { return tiles[i]; } }
    return null;
  }

  // A tile the page has not shown yet is cloned from the server's own tile markup.
  function newTile(id) {
    var list = document.querySelector('[data-live-list="endpoint"]');
    var template = document.getElementById("endpoint-tile-template");
    if (!list || !template || !template.content) { return null; }
    var tile = template.content.querySelector("[data-endpoint-id]").cloneNode(true);
    tile.setAttribute("data-endpoint-id", String(id));
    var link = tile.querySelector('[data-field="name"]');
    if (link) { link.setAttribute("href", "/endpoints/" + segment(id)); }
    list.appendChild(tile);
    return tile;
  }

  // t: one endpoint's health, as the PMS's endpoint activity lists it.
  function applyEndpoint(t) {
    if (t.endpoint_id == null) { return; }
    var tile = findTile(t.endpoint_id) || newTile(t.endpoint_id);
    if (!tile) { return; }
    var b = t.breaker || {}, c = t.deliveries || {}, hour = t.last_hour || {};
    tile.setAttribute("data-enabled", t.enabled ? "true" : "false");
    setField(tile, "id", String(t.endpoint_id));
    setField(tile, "name", String(t.name == null ? "" : t.name));
    setField(tile, "breaker", badge(b.state || "unknown"));
    var disabled = tile.querySelector('[data-field="disabled"]');
    if (disabled) { disabled.hidden = !!t.enabled; }
    setField(tile, "disabled_reason", t.disabled_reason ? (DISABLED_REASONS[t.disabled_reason] || String(t.disabled_reason)) : "");
    (CONTRACT.tile_counts || []).forEach(function (k) { setField(tile, k, String(c[k] || 0)); });
    setHour(tile, hour, false);
    setAge(tile, t.oldest_pending_at);
    tile.classList.remove("fresh");
    void tile.offsetWidth;  // restart the highlight
    tile.classList.add("fresh");
  }

  function removeEndpoint(gone) {
    var tile = findTile(gone.endpoint_id);
    if (tile && tile.parentNode) { tile.parentNode.removeChild(tile); }
  }

  // The last hour's figures; a tile's "failed" is its failed deliveries, so only the summary
  // shows the attempt counts.
  function setHour(root, hour, withCounts) {
    setField(root, "success_rate", percent(hour.success_rate));
    setField(root, "attempts", String(hour.attempts || 0));
    setField(root, "p50_ms", formatMs(hour.p50_ms));
    setField(root, "p95_ms", formatMs(hour.p95_ms));
    if (withCounts) {
      setField(root, "succeeded", String(hour.succeeded || 0));
      setField(root, "failed", String(hour.failed || 0));
    }
  }

  function applyOverall(o) {
    var root = document.querySelector('[data-live="overall"]');
    if (!root) { return; }
    setHour(root, o.last_hour || {}, true);
    setAge(root, o.oldest_pending_at);
  }

  // The chart: the server's layout and the hour's points, redrawn whole on every change with
  // the shapes the server draws (stacked bars, a p50 and a p95 line).
  var chart = null;
  var SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text != null) { node.textContent = text; }
    return node;
  }

  function niceCeiling(value) {
    if (value <= 0) { return 1; }
    var magnitude = Math.pow(10, Math.floor(Math.log(value) / Math.LN10));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * magnitude >= value) { return steps[i] * magnitude; } }
    return 10 * magnitude;
  }

  function round1(v) { return Math.round(v * 10) / 10; }

  function minuteLabel(at) {
    var date = new Date(at);
    return isNaN(date.getTime()) ? String(at) : date.toISOString().slice(11, 16);
  }

  function drawChart() {
    var node = document.getElementById("live-chart");
    if (!node || !chart) { return; }
    var lay = chart.layout, points = chart.points;
    var plotW = lay.width - lay.pad_left - lay.pad_right, plotH = lay.height - lay.pad_top - lay.pad_bottom;
    var bottom = lay.pad_top + plotH, right = lay.pad_left + plotW;
    var slot = plotW / Math.max(1, points.length);
    var maxCount = niceCeiling(Math.max.apply(null, [0].concat(points.map(function (p) { return p.delivered + p.failed; }))));
    var maxMs = niceCeiling(Math.max.apply(null, [0].concat(points.map(function (p) { return p.p95_ms || p.p50_ms || 0; }))));
    var desc = node.querySelector("desc");
    while (node.lastChild && node.lastChild !== desc) { node.removeChild(node.lastChild); }
    node.appendChild(svg("line", { "class": "axis", x1: lay.pad_left, y1: bottom, x2: right, y2: bottom }));
    node.appendChild(svg("line", { "class": "grid", x1: lay.pad_left, y1: lay.pad_top, x2: right, y2: lay.pad_top }));
    node.appendChild(svg("text", { "class": "axis-label", x: lay.pad_left - 6, y: lay.pad_top + 4, "text-anchor": "end" }, maxCount + "/min"));
    node.appendChild(svg("text", { "class": "axis-label", x: lay.pad_left - 6, y: bottom, "text-anchor": "end" }, "0"));
    node.appendChild(svg("text", { "class": "axis-label latency", x: right + 6, y: lay.pad_top + 4 }, formatMs(maxMs)));
    for (var t = 0; t < points.length; t += 15) {
      node.appendChild(svg("text", { "class": "axis-label", x: round1(lay.pad_left + t * slot), y: bottom + 16 }, minuteLabel(points[t].at)));
    }
    node.appendChild(svg("text", { "class": "axis-label", x: right, y: bottom + 16, "text-anchor": "end" }, "now (UTC)"));
    var p50 = [], p95 = [];
    points.forEach(function (p, i) {
      var x = lay.pad_left + i * slot, okH = plotH * p.delivered / maxCount, badH = plotH * p.failed / maxCount;
      var group = svg("g", { "class": "minute", "data-at": p.at });
      group.appendChild(svg("title", {}, minuteLabel(p.at) + " UTC: " + p.delivered + " delivered, " + p.failed +
                                      " failed, p50 " + formatMs(p.p50_ms) + ", p95 " + formatMs(p.p95_ms)));
      group.appendChild(svg("rect", { "class": "bar", x: round1(x + slot * 0.15), y: round1(bottom - okH), width: round1(slot * 0.7), height: round1(okH) }));
      group.appendChild(svg("rect", { "class": "bar-failed", x: round1(x + slot * 0.15), y: round1(bottom - okH - badH), width: round1(slot * 0.7), height: round1(badH) }));
      node.appendChild(group);
      var centre = round1(x + slot / 2);
      if (typeof p.p50_ms === "number") { p50.push(centre + "," + round1(bottom - plotH * p.p50_ms / maxMs)); }
      if (typeof p.p95_ms === "number") { p95.push(centre + "," + round1(bottom - plotH * p.p95_ms / maxMs)); }
    });
    if (p95.length) { node.appendChild(svg("polyline", { "class": "latency-line p95", points: p95.join(" ") })); }
    if (p50.length) { node.appendChild(svg("polyline", { "class": "latency-line p50", points: p50.join(" ") })); }
    var empty = document.querySelector('[data-field="chart-empty"]');
    if (empty && points.some(function (p) { return p.delivered + p.failed > 0; })) { empty.hidden = true; }
  }

  function loadChart() {
    var holder = document.querySelector("[data-chart]");
    if (!holder) { return; }
    try { chart = JSON.parse(holder.getAttribute("data-chart")); } catch (err) { chart = null; }
  }

  // One minute changed: replace it, or append it when it is newer than the last (the window
  // then drops its oldest minute, so the chart moves on by itself).
  function applyChart(point) {
    if (!chart || !point || !point.at) { return; }
    var points = chart.points;
    for (var i = points.length - 1; i >= 0; i--) {
      if (points[i].at === point.at) { points[i] = point; drawChart(); return; }
    }
    if (!points.length || point.at > points[points.length - 1].at) {
      points.push(point);
      while (points.length > 60) { points.shift(); }
      drawChart();
    }
  }

  function applySyncRun(run) {
    var root = document.querySelector('[data-field="sync-run"]');
    if (!root) { return; }
    root.setAttribute("data-run-id", String(run.id));
    var dl = el("dl", { "class": "facts" }, []);
    [["Started", timeTag(run.started_at)], ["Finished", timeTag(run.finished_at)],
     ["Compared", String(run.compared)], ["Drifted", el("strong", { "data-field": "drifted", "class": run.drifted ? "drift" : "" }, [String(run.drifted)])],
     ["Repaired", String(run.repaired)], ["Unrepairable", String(run.unrepairable)]].forEach(function (row) {
      dl.appendChild(el("dt", {}, [row[0]]));
      dl.appendChild(el("dd", {}, [row[1]]));
    });
    replaceChildren(root, [
      el("p", { "class": "big" }, [el("span", { "data-field": "status" }, [badge(run.status)]), " ",
        el("span", { "class": "dim" }, [String(run.kind) + (run.dry_run ? " · dry run" : "") + " · " + String(run.trigger)])]),
      dl]);
  }

  function noticeDetails(data) {
    if (!data || typeof data !== "object") { return ""; }
    return Object.keys(data).filter(function (k) { return data[k] != null && typeof data[k] !== "object"; })
      .map(function (k) { return k.replace(/_/g, " ") + ": " + data[k]; }).join(" · ");
  }

  function listNotification(n) {
    var lists = document.querySelectorAll('[data-live-list="notification"]');
    for (var i = 0; i < lists.length; i++) {
      if (findRow(lists[i], n.id, "li")) { continue; }
      var empty = lists[i].querySelector("li.empty");
      if (empty) { empty.parentNode.removeChild(empty); }
      var item = el("li", { "data-id": String(n.id), "class": "notice fresh" }, [
        el("span", { "class": "badge st-" + (NOTIFICATION_LEVELS[n.type] || "warn"), "data-type": String(n.type) }, [String(n.type)]), " ",
        el("span", { "class": "dim" }, [n.endpoint_id != null ? "endpoint " + n.endpoint_id : "PMS"]), " ",
        timeTag(n.created_at), " ",
        el("span", { "class": "notice-data" }, [noticeDetails(n.data)])]);
      lists[i].insertBefore(item, lists[i].firstChild);
      var limit = parseInt(lists[i].getAttribute("data-limit") || "8", 10);
      var items = lists[i].querySelectorAll("li[data-id]");
      for (var j = limit; j < items.length; j++) { lists[i].removeChild(items[j]); }
    }
  }

  // --- notifications: a toast on every open page, a desktop notification where allowed ---

  var MAX_TOASTS = 5;
  var TOAST_SECONDS = 15;  // good news and warnings fade; failures stay until dismissed
  var toasted = {};        // notification id -> true, so a page never shows one twice

  // "endpoint 3 (loyalty)" when the page shows that endpoint's tile, else "endpoint 3".
  function endpointName(id) {
    if (id == null) { return "the PMS"; }
    var tile = findTile(id);
    var name = tile && tile.querySelector('[data-field="name"]');
    var known = name && name.textContent ? name.textContent : (String(id) === "1" ? "CRM" : "");
    return "endpoint " + id + (known ? " (" + known + ")" : "");
  }

  // Title, text and level of a notification, in words ops read at a glance.
  function describe(n) {
    var about = describeText(n);
    about.level = NOTIFICATION_LEVELS[n.type] || "warn";
    return about;
  }

  function describeText(n) {
    var d = n.data || {};
    var who = endpointName(n.endpoint_id);
    switch (n.type) {
      case "endpoint.failing":
        return { title: "Failing: " + who,
                 text: (d.failure_count != null ? d.failure_count + " failures in a row. " : "") +
                       "Its deliveries wait; nothing is lost." };
      case "endpoint.recovered":
        return { title: "Recovered: " + who, text: "Deliveries flow again." };
      case "endpoint.disabled":
        return { title: "Disabled: " + who,
                 text: "Its deliveries are held: " + (DISABLED_REASONS[d.reason] || String(d.reason || "no reason given")) + "." };
      case "delivery.failed":
        return { title: "Delivery failed for good: " + who,
                 text: String(d.type || "an event") + " " + shortId(d.event_id) +
                       (d.last_error ? " (" + String(d.last_error) + ")" : "") + "; replay it once fixed." };
      case "sync.drift":
        return { title: "Reconciliation found drift",
                 text: String(d.drifted) + " out of step with the CRM, " + String(d.repaired) + " repaired, " +
                       String(d.unrepairable) + " unrepairable" + (d.dry_run ? " (dry run)." : ".") };
      default:
        return { title: String(n.type), text: who };
    }
  }

  function dismiss(toast) {
    if (toast.parentNode) { toast.parentNode.removeChild(toast); }
  }

  function showToast(n, about) {
    var region = document.getElementById("toasts");
    if (!region) { return; }
    var close = el("button", { type: "button", "class": "toast-close", "aria-label": "Dismiss" }, ["×"]);
    var toast = el("div", { "class": "toast toast-" + about.level, "data-notification-id": String(n.id),
                            "data-type": String(n.type) }, [
      el("strong", {}, [about.title]), " ", timeTag(n.created_at), el("p", {}, [about.text]), close]);
    close.addEventListener("click", function () { dismiss(toast); });
    region.insertBefore(toast, region.firstChild);
    var shown = region.querySelectorAll(".toast");
    for (var i = MAX_TOASTS; i < shown.length; i++) { dismiss(shown[i]); }
    if (about.level !== "bad") { setTimeout(function () { dismiss(toast); }, TOAST_SECONDS * 1000); }
  }

  function canNotify() { return "Notification" in window; }

  function showDesktop(n, about) {
    if (!canNotify() || Notification.permission !== "granted") { return; }
    try {
      // One tag per notification: with several pages open the system shows it once.
      new Notification("Guestsync: " + about.title, { body: about.text, tag: "guestsync-notification-" + n.id });
    } catch (err) { /* some browsers only allow them from a service worker; the toast is enough */ }
  }

  function applyNotification(n) {
    if (n.id == null || toasted[n.id]) { return; }
    toasted[n.id] = true;
    listNotification(n);
    var about = describe(n);
    showToast(n, about);
    showDesktop(n, about);
  }

  // The header button asks for permission only when clicked (never on load), and is shown
  // only while the browser has not been told yes or no.
  function setUpPermissionButton() {
    var button = document.getElementById("notify-permission");
    if (!button || !canNotify()) { return; }
    button.hidden = Notification.permission !== "default";
    button.addEventListener("click", function () {
      var done = function () { button.hidden = Notification.permission !== "default"; };
      var asked = Notification.requestPermission(done);
      if (asked && asked.then) { asked.then(done, done); }
    });
  }

  var HANDLERS = { event: applyEvent, delivery: applyDelivery, breaker: applyBreaker, profile: applyProfile,
                   notification: applyNotification, endpoint: applyEndpoint, endpoint_removed: removeEndpoint,
                   overall: applyOverall, chart: applyChart,
                   sync_run: applySyncRun };

  // --- the socket -----------------------------------------------------------------------

  var stateNode = null;
  var leaving = false;       // a navigation away from this page has started
  var behind = false;        // the server dropped us for falling behind: this page missed changes
  var delay = 1000;
  var MAX_DELAY = 30000;

  function setState(state, text) {
    if (!stateNode) { return; }
    stateNode.setAttribute("data-state", state);
    stateNode.textContent = text;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var socket;
    try {
      socket = new WebSocket(scheme + "//" + location.host + "/ws/live");
    } catch (err) {
      scheduleReconnect();
      return;
    }
    setState("connecting", "Connecting…");
    socket.onopen = function () {
      delay = 1000;
      // Changes missed while behind are not replayed; the operator decides when to reload
      // (the page never reloads by itself to show a change).
      if (behind) { setState("behind", "Live · missed updates, reload to catch up"); } else { setState("live", "Live"); }
    };
    socket.onmessage = function (message) {
      var parsed;
      try { parsed = JSON.parse(message.data); } catch (err) { return; }
      var handler = parsed && HANDLERS[parsed.kind];
      if (handler && parsed.data) { handler(parsed.data); }
      // Page scripts (static/pages.js) apply the messages their own tables need.
      if (parsed) { document.dispatchEvent(new CustomEvent("guestsync:live", { detail: parsed })); }
    };
    socket.onclose = function (closed) {
      // 4401: the session ended (signed out, removed, password changed, expired): reloading
      // shows the login page instead of retrying a feed that will refuse this browser.
      // Not while this page is already navigating (its own sign-out form ended the session).
      if (closed.code === 4401) { if (!leaving) { location.reload(); } return; }
      if (closed.code === 4000) { behind = true; }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    var wait = Math.min(MAX_DELAY, delay) * (0.8 + Math.random() * 0.4);
    delay = Math.min(MAX_DELAY, delay * 2);
    setState(navigator.onLine === false ? "offline" : "reconnecting",
             (navigator.onLine === false ? "Offline – retrying in " : "Reconnecting in ") + Math.round(wait / 1000) + " s");
    setTimeout(connect, wait);
  }

  window.addEventListener("beforeunload", function () { leaving = true; });

  document.addEventListener("DOMContentLoaded", function () {
    localiseAll(document);
    stateNode = document.getElementById("live-state");
    rememberDeliveries();
    loadChart();
    refreshAges();
    setInterval(refreshAges, 1000);
    setUpPermissionButton();
    if (stateNode) { connect(); }
  });
})();
