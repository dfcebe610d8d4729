// SOCdesk console keyboard shortcuts, theme toggle and the "composing" flag for presence.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }
  var current = -1;
  function focusRow(i) {
    var list = rows();
    if (!list.length) return;
    current = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (r, n) { r.classList.toggle("row-focus", n === current); });
    list[current].scrollIntoView({ block: "nearest" });
  }
  function openRow() {
    var row = rows()[current];
    if (!row) return;
    var href = row.getAttribute("data-href") || row.getAttribute("href");
    if (href) window.location.href = href;
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.key === "/") {
      var s = document.querySelector("[data-search]");
      if (s) { e.preventDefault(); s.focus(); s.select(); }
    } else if (e.key === "j") { focusRow(current + 1); }
    else if (e.key === "k") { focusRow(current - 1); }
    else if (e.key === "Enter" && current >= 0) { e.preventDefault(); openRow(); }
    else if (e.key === "x" && current >= 0) {
      var box = rows()[current].querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    }
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (t.closest && t.closest("[data-theme-toggle]")) {
      var root = document.documentElement;
      var dark = root.dataset.theme ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      try { localStorage.setItem("socdesk-theme", root.dataset.theme); } catch (err) {}
    }
    if (t.matches && t.matches("[data-select-all]")) {
      var name = t.dataset.selectAll || "ticket";  /* the checkboxes' name: ticket, delivery */
      document.querySelectorAll("input[name=" + name + "]").forEach(function (b) { b.checked = t.checked; });
    }
  });
  // Presence: tell the heartbeat whether this agent has text in the composer.
  document.addEventListener("input", function (e) {
    if (e.target.name !== "body") return;
    var flag = document.querySelector("[data-composing]");
    if (flag) flag.value = e.target.value.trim() ? "1" : "0";
  });
  // htmx does not swap 4xx answers by default, so a refused form would fail without a word. A 4xx
  // that carries HX-Reswap is a fragment meant to be shown (it holds the error sentence): swap it.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("HX-Reswap")) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "ticket-main" || (e.detail && e.detail.target && e.detail.target.id === "ticket-main")) {
      var flag = document.querySelector("[data-composing]");
      var body = document.querySelector("textarea[name=body]");
      if (flag) flag.value = body && body.value.trim() ? "1" : "0";
    }
  });
})();
