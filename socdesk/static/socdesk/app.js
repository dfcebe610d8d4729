// SOCdesk console keyboard shortcuts, theme toggle, the "composing" flag for presence and the reply draft.
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
    var copy = t.closest && t.closest("[data-copy]");
    if (copy) {  /* admin area: copy a one-time key or link from its read-only field */
      var field = document.getElementById(copy.dataset.copy);
      if (field) {
        field.select();
        var done = function () { copy.textContent = "Copied"; };
        if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () {}); }
        else if (document.execCommand("copy")) { done(); }
      }
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
  // Bulk actions: one chooser; only the fields the chosen action sends are shown (and submitted), and
  // the resolution only once the status asks for one.
  function showBulkFields() {
    var bar = document.querySelector("[data-bulkbar]");
    if (!bar) return;
    var action = bar.querySelector("[data-bulk-action]").value;
    var status = bar.querySelector("[data-bulk-status]");
    var closing = status && (status.value === "resolved" || status.value === "closed");
    bar.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      var shown = field.dataset.bulkFor === action && (!field.hasAttribute("data-bulk-resolution") || closing);
      field.hidden = !shown;
      field.querySelectorAll("select, input").forEach(function (control) { control.disabled = !shown; });
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-bulk-action], [data-bulk-status]")) showBulkFields();
  });
  document.addEventListener("DOMContentLoaded", showBulkFields);
  // Ticket filter editor: the webhook secret is shown once an action row calls a webhook (or one is set).
  var ACTION_TYPE = "[data-action-row] select[name$='-type']";
  function showWebhookSecret() {
    var box = document.querySelector("[data-webhook-secret]");
    if (!box) return;
    var calls = Array.prototype.some.call(document.querySelectorAll(ACTION_TYPE), function (s) {
      return s.value === "webhook";
    });
    box.hidden = !(calls || box.hasAttribute("data-secret-set") || box.querySelector(".field-error"));
  }
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches(ACTION_TYPE)) showWebhookSecret();
  });
  document.addEventListener("DOMContentLoaded", showWebhookSecret);
  // The reply draft: every sidebar action re-renders the ticket (htmx swap, or a full page after a
  // refusal), which would empty the composer. The text is kept in sessionStorage per ticket and put back
  // into an empty composer; the server marks the composer data-draft-sent once a reply or note went out.
  function draftKey(box) { return "socdesk-draft:" + box.dataset.draftKey; }
  function draftComposer() { return document.querySelector("[data-draft-key]"); }
  function storeDraft(box, text) {
    try {
      if (text) sessionStorage.setItem(draftKey(box), text);
      else sessionStorage.removeItem(draftKey(box));
    } catch (err) {}  /* storage refused (private mode, quota): the server-side bound form still helps */
  }
  function restoreDraft() {
    var box = draftComposer();
    if (!box) return;
    var body = box.querySelector("textarea[name=body]");
    if (!body) return;
    if (box.hasAttribute("data-draft-sent")) { storeDraft(box, ""); }
    else if (body.value) { storeDraft(box, body.value); }  /* text the server kept after a refusal */
    else {
      var saved = null;
      try { saved = sessionStorage.getItem(draftKey(box)); } catch (err) {}
      if (saved) body.value = saved;
    }
    var flag = document.querySelector("[data-composing]");
    if (flag) flag.value = body.value.trim() ? "1" : "0";
  }
  document.addEventListener("input", function (e) {
    if (e.target.name !== "body") return;
    var box = e.target.closest && e.target.closest("[data-draft-key]");
    if (box) storeDraft(box, e.target.value);
  });
  document.addEventListener("DOMContentLoaded", restoreDraft);
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
      restoreDraft();
    }
  });
  // The side panels the agent opened or closed stay that way when an action re-renders the ticket.
  var panelsOpen = null;
  function panelKey(details) {
    var summary = details.querySelector("summary");
    return summary ? summary.textContent.trim() : "";
  }
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail && e.detail.target;
    if (!target || target.id !== "ticket-main") return;
    panelsOpen = {};
    target.querySelectorAll("details").forEach(function (d) { panelsOpen[panelKey(d)] = d.open; });
  });
  // An outerHTML swap replaces the element the request targeted, so also listen for the new content.
  document.addEventListener("htmx:load", function (e) {
    var elt = e.detail && e.detail.elt;
    if (!elt || !elt.querySelector) return;
    if (elt.id === "ticket-main" && panelsOpen) {
      elt.querySelectorAll("details").forEach(function (d) {
        var key = panelKey(d);
        if (Object.prototype.hasOwnProperty.call(panelsOpen, key)) d.open = panelsOpen[key];
      });
      panelsOpen = null;
    }
    if (elt.matches("[data-draft-key]") || elt.querySelector("[data-draft-key]")) restoreDraft();
  });
})();
