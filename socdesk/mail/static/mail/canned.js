// The composer's canned-response picker: `;` at the start of the message or after a space opens it,
// typing filters (htmx asks the server), arrows move, Enter inserts the response rendered by the server
// for this ticket, Escape closes. A response's files go with the reply (hidden `canned` inputs).
(function () {
  "use strict";
  function picker(box) { return box && box.querySelector("[data-canned-picker]"); }
  function options(p) { return Array.prototype.slice.call(p.querySelectorAll("[role=option]")); }
  function body(box) { return box.querySelector("textarea[name=body]"); }
  function open(box) {
    var p = picker(box);
    if (!p) return;
    p.hidden = false;
    var search = p.querySelector("[data-canned-search]");
    search.value = "";
    search.focus();
    window.htmx.trigger(search, "canned-open");
  }
  function close(box, refocus) {
    var p = picker(box);
    if (!p || p.hidden) return;
    p.hidden = true;
    if (refocus) body(box).focus();
  }
  function move(p, step) {
    var list = options(p);
    if (!list.length) return;
    var at = list.findIndex(function (o) { return o.classList.contains("active"); });
    var next = Math.max(0, Math.min(list.length - 1, at + step));
    list.forEach(function (o, n) {
      o.classList.toggle("active", n === next);
      o.setAttribute("aria-selected", n === next ? "true" : "false");
    });
    list[next].scrollIntoView({ block: "nearest" });
  }
  function insertText(area, text) {
    var start = area.selectionStart, end = area.selectionEnd;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.dispatchEvent(new Event("input", { bubbles: true }));  // the draft and presence follow
  }
  function choose(box, option) {
    if (!option || !option.dataset.cannedUrl) return;
    var holder = box.querySelector("[data-canned-result]");
    window.htmx.ajax("GET", option.dataset.cannedUrl, { target: holder, swap: "innerHTML" }).then(function () {
      var text = holder.querySelector("[data-canned-text]");
      if (!text) return;
      close(box, true);
      insertText(body(box), text.value);
      var files = holder.querySelectorAll("[data-canned-file]");
      var list = box.querySelector("[data-canned-files]");
      if (files.length && list && !list.querySelector("input[value='" + text.dataset.cannedId + "']")) {
        var item = document.createElement("li");
        var input = document.createElement("input");
        input.type = "hidden"; input.name = "canned"; input.value = text.dataset.cannedId;
        var names = Array.prototype.map.call(files, function (f) { return f.textContent; }).join(", ");
        item.textContent = "Attached from “" + text.dataset.cannedTitle + "”: " + names + " ";
        var remove = document.createElement("button");
        remove.type = "button"; remove.className = "btn ghost small"; remove.textContent = "Remove";
        remove.addEventListener("click", function () { item.remove(); });
        item.appendChild(input); item.appendChild(remove);
        list.appendChild(item);
      }
      holder.innerHTML = "";
    });
  }
  document.addEventListener("keydown", function (e) {
    var box = e.target.closest && e.target.closest("[data-canned-box]");
    if (!box || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.matches("textarea[name=body]") && e.key === ";") {
      var area = e.target, before = area.value.slice(0, area.selectionStart);
      if (before === "" || /\s$/.test(before)) { e.preventDefault(); open(box); }
      return;
    }
    if (!e.target.matches("[data-canned-search]")) return;
    var p = picker(box);
    if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); close(box, true); }
    else if (e.key === "ArrowDown") { e.preventDefault(); move(p, 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); move(p, -1); }
    else if (e.key === "Enter") { e.preventDefault(); choose(box, p.querySelector("[role=option].active")); }
  }, true);
  document.addEventListener("click", function (e) {
    var option = e.target.closest && e.target.closest("[data-canned-picker] [role=option]");
    if (option) choose(option.closest("[data-canned-box]"), option);
    var opener = e.target.closest && e.target.closest("[data-canned-open]");
    if (opener) open(opener.closest("[data-canned-box]"));
  });
})();
