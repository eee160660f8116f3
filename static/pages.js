// Guestsync triage pages: the deliveries tables (the deliveries list, an endpoint's recent
// deliveries) kept current by the live feed without a reload. The feed itself is
// dashboard.js's; it announces each message as a "guestsync:live" event on the document.
// A row already shown gets its status, attempts, last answer and next attempt in place (its
// Replay button stays); a new delivery is added on top when the table's filters can be checked
// here (endpoint, status, type, entity, id prefix). Every value is inserted as text.
(function () {
  "use strict";

  var STATUS_CLASSES = { delivered: "good", pending: "active", delivering: "active", failed: "bad", held: "warn" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function badge(status) {
    return el("span", { "class": "badge st-" + (STATUS_CLASSES[status] || "muted"), "data-status": String(status) },
              [String(status == null ? "unknown" : status).replace(/_/g, " ")]);
  }

  function timeTag(value) {
    if (!value) { return el("span", { "class": "none" }, ["–"]); }
    var date = new Date(value);
    var shown = isNaN(date.getTime()) ? String(value) : date.toLocaleString();
    return el("time", { datetime: String(value), title: String(value) }, [shown]);
  }

  function lastAnswer(d) {
    var parts = [];
    if (d.last_status_code) {
      var ok = d.last_status_code >= 200 && d.last_status_code < 300;
      parts.push(el("span", { "class": "badge " + (ok ? "st-good" : "st-bad"), "data-field": "last_status_code" },
                    [String(d.last_status_code)]));
    } else if (d.last_error) {
      parts.push(el("span", { "class": "badge st-bad" }, ["no answer"]));
    }
    if (d.last_error) {
      var text = String(d.last_error);
      parts.push(" ", el("span", { "class": "error-text", title: text }, [text.length > 90 ? text.slice(0, 89) + "…" : text]));
    } else if (!d.last_status_code) {
      parts.push(el("span", { "class": "dim" }, ["–"]));
    }
    return parts;
  }

  function fill(cell, children) {
    if (!cell) { return; }
    while (cell.firstChild) { cell.removeChild(cell.firstChild); }
    children.forEach(function (c) { cell.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
  }

  function update(row, d) {
    fill(row.querySelector('[data-field="status"]'), [badge(d.status)]);
    fill(row.querySelector('[data-field="attempt_count"]'), [String(d.attempt_count == null ? "" : d.attempt_count)]);
    fill(row.querySelector('[data-field="last_error"]'), lastAnswer(d));
    fill(row.querySelector('[data-field="next_attempt_at"]'), [timeTag(d.next_attempt_at)]);
  }

  // A new row: the first row of the table is the pattern (its links and its Replay form,
  // XSRF field included), with this delivery's values.
  function newRow(tbody, d) {
    var pattern = tbody.querySelector("tr[data-id]");
    if (!pattern) { return null; }
    var row = pattern.cloneNode(true);
    var oldId = pattern.getAttribute("data-id");
    row.setAttribute("data-id", String(d.id));
    var link = row.querySelector("td a");
    if (link) {
      link.setAttribute("href", link.getAttribute("href").replace(encodeURIComponent(oldId), encodeURIComponent(String(d.id))));
      link.setAttribute("title", String(d.id));
      fill(link, [el("code", {}, [String(d.id).slice(0, 8)])]);
    }
    var cells = row.querySelectorAll("td");
    fill(cells[1], [el("code", {}, [String(d.type)])]);
    fill(cells[3], [String(d.entity_id), " ", el("span", { "class": "dim" }, ["v" + d.entity_version])]);
    fill(cells[7], [timeTag(d.created_at)]);
    var form = row.querySelector("form.row-action");
    if (form) { form.setAttribute("action", "/deliveries/" + encodeURIComponent(String(d.id)) + "/replay"); }
    var button = row.querySelector("[data-replay]");
    if (button) { button.setAttribute("data-replay", String(d.id)); }
    update(row, d);
    row.classList.add("fresh");
    return row;
  }

  function matches(tbody, d) {
    var wanted = function (name) { return tbody.getAttribute("data-filter-" + name); };
    if (wanted("guest_id") || wanted("since") || wanted("until")) { return false; }   // not checkable here
    if (wanted("status") && wanted("status") !== d.status) { return false; }
    if (wanted("type") && wanted("type") !== d.type) { return false; }
    if (wanted("entity_id") && wanted("entity_id") !== String(d.entity_id)) { return false; }
    if (wanted("id") && String(d.id).indexOf(wanted("id").toLowerCase()) !== 0) { return false; }
    return true;
  }

  function applyDelivery(d) {
    var endpoint = String(d.endpoint_id == null ? 1 : d.endpoint_id);
    var tables = document.querySelectorAll('tbody[data-live-rows="delivery"]');
    for (var i = 0; i < tables.length; i++) {
      var tbody = tables[i];
      if (tbody.getAttribute("data-delivery-list") !== endpoint) { continue; }
      var rows = tbody.querySelectorAll("tr[data-id]");
      var found = null;
      for (var j = 0; j < rows.length; j++) { if (rows[j].getAttribute("data-id") === String(d.id)) { found = rows[j]; } }
      if (found) { update(found, d); continue; }
      if (!matches(tbody, d)) { continue; }
      var row = newRow(tbody, d);
      if (!row) { continue; }
      tbody.insertBefore(row, tbody.firstChild);
      var limit = parseInt(tbody.getAttribute("data-limit") || "50", 10);
      var all = tbody.querySelectorAll("tr[data-id]");
      for (var k = limit; k < all.length; k++) { tbody.removeChild(all[k]); }
    }
  }

  document.addEventListener("guestsync:live", function (event) {
    var message = event.detail;
    if (message && message.kind === "delivery" && message.data) { applyDelivery(message.data); }
  });
})();
