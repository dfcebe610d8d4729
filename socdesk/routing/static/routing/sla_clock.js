// The ticket page's SLA clock: counts the server's remaining working time down, once a second, while
// the clock runs. Reads the panel afresh each tick, so a panel htmx swaps in keeps counting.
(function () {
  "use strict";
  if (window.socdeskSlaClock) return;
  window.socdeskSlaClock = true;
  function label(seconds) {
    var s = Math.abs(seconds);
    if (s < 60) return "< 1 min";
    var minutes = Math.floor(s / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60); minutes = minutes % 60;
    if (hours < 24) return minutes ? hours + " h " + minutes + " min" : hours + " h";
    var days = Math.floor(hours / 24); hours = hours % 24;
    return hours ? days + " d " + hours + " h" : days + " d";
  }
  setInterval(function () {
    document.querySelectorAll("[data-sla-clock][data-counting='1'][data-remaining]").forEach(function (panel) {
      var left = parseInt(panel.getAttribute("data-remaining"), 10) - 1;
      panel.setAttribute("data-remaining", String(left));
      var text = panel.querySelector("[data-sla-remaining]");
      if (text) text.textContent = left >= 0 ? label(left) + " left" : "overdue by " + label(left);
      panel.querySelectorAll("[data-sla-suffix]").forEach(function (suffix) {
        suffix.hidden = (suffix.getAttribute("data-sla-suffix") === "left") !== (left >= 0);
      });
    });
  }, 1000);
})();
