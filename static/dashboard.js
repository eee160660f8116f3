// Guestsync dashboard: local times, the live feed applied to the open page in place, and
// notifications shown as toasts (and desktop notifications where the operator allowed them).
// Plain DOM code; every value from the services is inserted as text, never as HTML.
(function () {
  "use strict";

  var STATUS_CLASSES = {
    delivered: "good", processed: "good", accepted: "good", closed: "good", ok: "good",
    pending: "active", delivering: "active",
    failed: "bad", rejected: "bad", open: "bad", unavailable: "bad",
    half_open: "warn",
    stale: "muted", ignored: "muted", duplicate: "muted"
  };
  var TIER_CLASSES = { vip: "warn", returning: "active", "new": "muted" };

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

  function findRow(list, id) {
    var rows = list.querySelectorAll("tr[data-id]");
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

  var BREAKER_HELP = {
    open: "The CRM is failing; the PMS is holding events and will probe again shortly. Nothing is lost.",
    half_open: "Probing the CRM with one event.",
    closed: "Events flow to the CRM normally."
  };

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

  // --- notifications: a toast on every open page, a desktop notification where allowed ---

  var MAX_TOASTS = 5;
  var TOAST_SECONDS = 15;  // good news and warnings fade; failures stay until dismissed
  var DISABLED_REASONS = { manual: "disabled by an operator", gone: "it answered 410 Gone",
                           failing: "it kept failing for too long" };
  var toasted = {};        // notification id -> true, so a page never shows one twice

  function endpointName(id) {
    if (id == null) { return "the PMS"; }
    return "endpoint " + id + (String(id) === "1" ? " (CRM)" : "");
  }

  // Title, text and level of a notification, in words ops read at a glance.
  function describe(n) {
    var d = n.data || {};
    var who = endpointName(n.endpoint_id);
    switch (n.type) {
      case "endpoint.failing":
        return { level: "bad", title: "Failing: " + who,
                 text: (d.failure_count != null ? d.failure_count + " failures in a row. " : "") +
                       "Its deliveries wait; nothing is lost." };
      case "endpoint.recovered":
        return { level: "good", title: "Recovered: " + who, text: "Deliveries flow again." };
      case "endpoint.disabled":
        return { level: "bad", title: "Disabled: " + who,
                 text: "Its deliveries are held: " + (DISABLED_REASONS[d.reason] || String(d.reason || "no reason given")) + "." };
      case "delivery.failed":
        return { level: "bad", title: "Delivery failed for good: " + who,
                 text: String(d.type || "an event") + " " + shortId(d.event_id) +
                       (d.last_error ? " (" + String(d.last_error) + ")" : "") + "; replay it once fixed." };
      case "sync.drift":
        return { level: "warn", title: "Reconciliation found drift",
                 text: String(d.drifted) + " out of step with the CRM, " + String(d.repaired) + " repaired, " +
                       String(d.unrepairable) + " unrepairable" + (d.dry_run ? " (dry run)." : ".") };
      default:
        return { level: "warn", title: String(n.type), text: who };
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
                   notification: applyNotification };

  // --- the socket -----------------------------------------------------------------------

  var stateNode = null;
  var leaving = false;       // a navigation away from this page has started
  var reloadOnOpen = false;  // set when the server dropped us for falling behind: the page is stale
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
      if (reloadOnOpen) { location.reload(); return; }
      delay = 1000;
      setState("live", "Live");
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
      if (closed.code === 4000) { reloadOnOpen = true; }
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
    setUpPermissionButton();
    if (stateNode) { connect(); }
  });
})();
