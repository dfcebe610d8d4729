// Loaded without defer in <head>: applies a remembered theme before first paint, so it never flashes.
// A file, not an inline script, so the Content-Security-Policy can forbid inline scripts.
try {
  var socdeskTheme = localStorage.getItem("socdesk-theme");
  if (socdeskTheme) document.documentElement.dataset.theme = socdeskTheme;
} catch (e) {}
