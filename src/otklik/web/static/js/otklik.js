/* Otklik workspace: keyboard shortcuts, row selection, the live "new cases" counter.
 * Written for Otklik, AGPL-3.0-or-later. No inline scripts anywhere: the CSP forbids them.
 * Keys (outside text fields): j/k move, Enter opens, x selects, a opens "assign to a person"
 * (on the card, or the current row's card), r focuses the route select, / focuses search. */
(function () {
  "use strict";

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-nav-item]"));
  }

  function current() {
    return document.querySelector("[data-nav-item][data-current]");
  }

  function move(step) {
    var list = items();
    if (!list.length) { return; }
    var at = list.indexOf(current());
    var next = list[Math.min(list.length - 1, Math.max(0, at + step))] || list[0];
    list.forEach(function (el) { el.removeAttribute("data-current"); el.removeAttribute("aria-current"); });
    next.setAttribute("data-current", "");
    next.setAttribute("aria-current", "true");
    var link = next.querySelector("a.case-link, a");
    if (link) { link.focus({ preventScroll: true }); }
    next.scrollIntoView({ block: "nearest" });
  }

  function open(el) {
    if (el && el.getAttribute("data-href")) { window.location.assign(el.getAttribute("data-href")); }
  }

  function clickShortcut(key) {
    var scope = current() || document;
    var el = scope.querySelector('[data-shortcut="' + key + '"]') ||
             document.querySelector('[data-shortcut="' + key + '"]');
    if (!el) { return false; }
    if (el.tagName === "SELECT" || el.tagName === "INPUT") { el.focus(); } else { el.click(); }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); }
      return;
    }
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        if (current() && event.target === document.body) { open(current()); break; }
        return;
      case "x":
        var box = current() && current().querySelector('input[type="checkbox"]');
        if (box) { box.checked = !box.checked; }
        break;
      case "a":
        if (!clickShortcut("a")) {
          if (!current()) { return; }
          window.location.assign(current().getAttribute("data-href") + "#assign-user");
        }
        break;
      case "r":
        if (!clickShortcut("r")) {
          if (!current()) { return; }
          window.location.assign(current().getAttribute("data-href") + "#route-exec");
        }
        break;
      case "/":
        var search = document.querySelector("[data-shortcut-search]");
        if (!search) { return; }
        search.focus();
        break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-select-all")) {
      var form = event.target.form;
      Array.prototype.forEach.call(form.querySelectorAll('input[name="ids"]'), function (box) {
        box.checked = event.target.checked;
      });
    }
  });

  function focusFromHash() {
    var id = window.location.hash.slice(1);
    var el = id && document.getElementById(id);
    if (el && (el.tagName === "SELECT" || el.tagName === "INPUT")) { el.focus(); }
  }

  function poll(box) {
    var url = box.getAttribute("data-poll-url") + "?since=" + encodeURIComponent(box.getAttribute("data-since"));
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        box.querySelector(".live-count").textContent = String(data.count);
        box.hidden = data.count === 0;
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFromHash();
    var box = document.querySelector("[data-poll-url]");
    if (box) { window.setInterval(function () { poll(box); }, 30000); }
  });
}());
